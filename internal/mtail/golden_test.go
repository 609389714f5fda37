package mtail

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The golden format of the shared corpus (its README): one line per metric
// or labelled value, `KIND NAME[ {K=V,...}][ VALUE[ TIMESTAMP]]`.

// gValue is one expected or produced label set.
type gValue struct {
	Labels []string
	Value  string // canonical text of the value
	Time   *int64 // nil: not compared
}

// gMetric is one expected or produced metric.
type gMetric struct {
	Kind   string
	Type   Type
	Keys   []string
	Values []gValue
}

var goldenLine = regexp.MustCompile(`^(counter|gauge|timer|text|histogram) (\S+)(?: \{([^}]*)\})?(?: (\S+)(?: (\S+))?)?\s*$`)

func readGolden(path string) (map[string]*gMetric, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*gMetric{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := goldenLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		kind, name, labels, value, ts := m[1], m[2], m[3], m[4], m[5]
		gm := out[name]
		if gm == nil {
			gm = &gMetric{Kind: kind, Type: -1}
			out[name] = gm
		}
		var keys, vals []string
		empty := false
		if labels != "" || strings.Contains(m[0], "{}") {
			for _, pair := range strings.Split(labels, ",") {
				k, v, _ := strings.Cut(pair, "=")
				if v == "" {
					empty = true
				}
				if v == `""` {
					v = ""
				}
				keys, vals = append(keys, k), append(vals, v)
			}
		}
		gm.Keys = keys
		if value == "" || empty {
			continue
		}
		typ, canon := goldenType(value)
		if gm.Type == -1 {
			gm.Type = typ
		} else if gm.Type != typ {
			continue
		}
		v := gValue{Labels: vals, Value: canon}
		if ts != "" {
			n, err := parseGoldenTime(ts)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			v.Time = &n
		}
		gm.Values = append(gm.Values, v)
	}
	for _, gm := range out {
		if gm.Type == -1 {
			gm.Type = Int
			if gm.Kind == "text" {
				gm.Type = String
			}
		}
		// An unlabelled counter exists at 0 from load.
		if gm.Kind == "counter" && len(gm.Keys) == 0 && len(gm.Values) == 0 {
			zero := int64(0)
			gm.Values = []gValue{{Value: "0", Time: &zero}}
		}
	}
	return out, sc.Err()
}

// goldenType applies the README's rule: int, else non-zero float, else string.
func goldenType(v string) (Type, string) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return Int, strconv.FormatInt(n, 10)
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f != 0 {
		return Float, strconv.FormatFloat(f, 'g', -1, 64)
	}
	return String, v
}

func parseGoldenTime(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("bad golden timestamp %q: %w", s, err)
	}
	return t.UnixNano(), nil
}

// fromJSON reads sluice's one-shot JSON into the same shape, taking the
// time of every value (the comparison drops those the golden omits).
func fromJSON(b []byte) (map[string]*gMetric, error) {
	var raw map[string][]struct {
		Kind        Kind
		Type        Type
		Keys        []string
		LabelValues []struct {
			Labels []string
			Value  struct {
				Value json.RawMessage
				Time  int64
			}
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := map[string]*gMetric{}
	for name, ms := range raw {
		for _, m := range ms {
			gm := &gMetric{Kind: m.Kind.String(), Type: m.Type, Keys: m.Keys}
			for _, lv := range m.LabelValues {
				v := string(lv.Value.Value)
				switch m.Type {
				case String:
					_ = json.Unmarshal(lv.Value.Value, &v)
				case Float:
					f, _ := strconv.ParseFloat(v, 64)
					v = strconv.FormatFloat(f, 'g', -1, 64)
				}
				tm := lv.Value.Time
				gm.Values = append(gm.Values, gValue{Labels: lv.Labels, Value: v, Time: &tm})
			}
			out[name] = gm
		}
	}
	return out, nil
}
