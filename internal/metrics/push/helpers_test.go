package push

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// at is the time of every test snapshot: 2026-12-06T04:00:00.25Z.
var at = time.Unix(1796529600, 250_000_000)

// testStore returns a store with a counter requests_total{code,method}, a
// gauge queue_depth and a histogram latency_seconds{path}.
func testStore(t testing.TB) (*store.Store, *store.Family, *store.Family, *store.Family) {
	t.Helper()
	s := store.New(0, nil, nil)
	c := s.Family(store.Options{Name: "requests_total", Kind: store.Counter, Labels: []string{"method", "code"}})
	g := s.Family(store.Options{Name: "queue_depth", Kind: store.Gauge})
	h := s.Family(store.Options{Name: "latency_seconds", Kind: store.Histogram, Labels: []string{"path"},
		Buckets: []float64{0.1, 1}})
	return s, c, g, h
}

func key(vals ...string) []byte {
	var k []byte
	for _, v := range vals {
		k = store.AppendKeyString(k, v)
	}
	return k
}

// fill puts the same values in the three families of testStore.
func fill(c, g, h *store.Family) {
	c.Add(key("GET", "200"), 3)
	c.Add(key("POST", "500"), 1)
	g.Set(nil, 7.5)
	h.Observe(key("/a"), 0.05)
	h.Observe(key("/a"), 0.5)
	h.Observe(key("/a"), 3)
}

// rwSeries is one decoded remote_write TimeSeries, rendered for diffs:
// its labels as name=value joined by commas (in wire order), its value
// and timestamp.
type rwSeries struct {
	Labels string
	Value  float64
	TS     int64
}

// decodeWriteRequest decodes a WriteRequest with protowire, failing on
// anything remote_write 1.0 does not have.
func decodeWriteRequest(b []byte) ([]rwSeries, error) {
	var out []rwSeries
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != 1 || typ != protowire.BytesType {
			return nil, fmt.Errorf("WriteRequest: unexpected field %d type %d", num, typ)
		}
		b = b[n:]
		ts, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, fmt.Errorf("WriteRequest: bad TimeSeries")
		}
		b = b[n:]
		s, err := decodeTimeSeries(ts)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeTimeSeries(b []byte) (rwSeries, error) {
	var s rwSeries
	var lbls, names []string
	samples := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return s, fmt.Errorf("TimeSeries: bad tag")
		}
		b = b[n:]
		m, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return s, fmt.Errorf("TimeSeries: bad field %d", num)
		}
		b = b[n:]
		f := decodeFields(m)
		if f == nil {
			return s, fmt.Errorf("TimeSeries: bad message in field %d", num)
		}
		switch num {
		case 1:
			lbls = append(lbls, string(f[1].bytes)+"="+string(f[2].bytes))
			names = append(names, string(f[1].bytes))
		case 2:
			samples++
			s.Value, s.TS = math.Float64frombits(f[1].num), int64(f[2].num)
		default:
			return s, fmt.Errorf("TimeSeries: unexpected field %d", num)
		}
	}
	if samples != 1 {
		return s, fmt.Errorf("TimeSeries with %d samples", samples)
	}
	if !sort.StringsAreSorted(names) {
		return s, fmt.Errorf("labels not sorted by name: %v", lbls)
	}
	s.Labels = strings.Join(lbls, ",")
	return s, nil
}

type field struct {
	bytes []byte
	num   uint64
}

// decodeFields decodes a flat message (Label or Sample) by field number,
// or nil when it does not parse.
func decodeFields(b []byte) map[protowire.Number]field {
	out := map[protowire.Number]field{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		var f field
		switch typ {
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			f.num, n = protowire.ConsumeFixed64(b)
		case protowire.VarintType:
			f.num, n = protowire.ConsumeVarint(b)
		default:
			return nil
		}
		if n < 0 {
			return nil
		}
		b = b[n:]
		out[num] = f
	}
	return out
}

// netValue is one value list decoded from collectd's binary protocol.
type netValue struct {
	Host, Plugin, PluginInstance, Type, TypeInstance string
	Time, Interval                                   uint64
	Kind                                             byte
	Gauge                                            float64
	Derive                                           int64
}

// decodeCollectd decodes binary-protocol packets as collectd's network
// plugin does: each part updates the state, each values part emits.
func decodeCollectd(p []byte) ([]netValue, error) {
	var cur netValue
	var out []netValue
	for len(p) > 0 {
		if len(p) < 4 {
			return nil, fmt.Errorf("short part header")
		}
		typ, l := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if l < 4 || l > len(p) {
			return nil, fmt.Errorf("part %#x: bad length %d", typ, l)
		}
		body := p[4:l]
		p = p[l:]
		str := func() (string, error) {
			if len(body) == 0 || body[len(body)-1] != 0 {
				return "", fmt.Errorf("part %#x: string not NUL-terminated", typ)
			}
			return string(body[:len(body)-1]), nil
		}
		var err error
		switch typ {
		case partHost:
			cur.Host, err = str()
		case partPlugin:
			cur.Plugin, err = str()
		case partPluginInstance:
			cur.PluginInstance, err = str()
		case partType:
			cur.Type, err = str()
		case partTypeInstance:
			cur.TypeInstance, err = str()
		case partTimeHR, partIntervalHR:
			if len(body) != 8 {
				return nil, fmt.Errorf("part %#x: length %d", typ, l)
			}
			if typ == partTimeHR {
				cur.Time = binary.BigEndian.Uint64(body)
			} else {
				cur.Interval = binary.BigEndian.Uint64(body)
			}
		case partValues:
			if len(body) != 11 || binary.BigEndian.Uint16(body) != 1 {
				return nil, fmt.Errorf("values part: want 1 value, got %d bytes", len(body))
			}
			v := cur
			v.Kind = body[2]
			switch v.Kind {
			case dsGauge:
				v.Gauge = math.Float64frombits(binary.LittleEndian.Uint64(body[3:]))
			case dsDerive:
				v.Derive = int64(binary.BigEndian.Uint64(body[3:]))
			default:
				return nil, fmt.Errorf("values part: type %d", v.Kind)
			}
			out = append(out, v)
		default:
			return nil, fmt.Errorf("unknown part %#x", typ)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
