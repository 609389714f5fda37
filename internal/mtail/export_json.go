package mtail

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
)

// The JSON shapes of mtail's one-shot dump and /json: field names, kinds
// and types as mtail writes them, so existing tooling keeps working.
type (
	jsonMetric struct {
		Name        string
		Program     string
		Kind        Kind
		Type        Type
		Keys        []string     `json:",omitempty"`
		LabelValues []jsonLabels `json:",omitempty"`
		Source      string       `json:",omitempty"`
		Buckets     []jsonRange  `json:",omitempty"`
		Limit       int          `json:",omitempty"`
	}
	jsonLabels struct {
		Labels []string `json:",omitempty"`
		Value  any
	}
	jsonValue[T any] struct {
		Value T
		Time  int64
	}
	jsonHist struct {
		Buckets map[string]uint64
		Count   uint64
		Sum     float64
		Time    int64
	}
	jsonRange struct{ Min, Max string }
)

func formatBound(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (m *metric) json() jsonMetric {
	j := jsonMetric{Name: m.Name, Program: m.Program, Kind: m.Kind, Type: m.Type, Keys: m.Keys,
		Source: m.Source, Limit: m.Limit}
	if m.Kind == Histogram {
		lo := "0"
		for _, b := range m.Bounds {
			j.Buckets = append(j.Buckets, jsonRange{lo, formatBound(b)})
			lo = formatBound(b)
		}
		j.Buckets = append(j.Buckets, jsonRange{lo, "+Inf"})
	}
	for _, ls := range m.sets() {
		j.LabelValues = append(j.LabelValues, jsonLabels{Labels: ls.labels, Value: m.jsonValue(&ls.d)})
	}
	return j
}

func (m *metric) jsonValue(d *datum) any {
	switch m.Type {
	case Float:
		return jsonValue[float64]{d.f, d.time}
	case String:
		return jsonValue[string]{d.s, d.time}
	case Buckets:
		h := jsonHist{Buckets: map[string]uint64{}, Count: d.count, Sum: d.sum, Time: d.time}
		for i, b := range m.Bounds {
			h.Buckets[formatBound(b)] = d.counts[i]
		}
		h.Buckets["+Inf"] = d.counts[len(m.Bounds)]
		return h
	}
	return jsonValue[int64]{d.i, d.time}
}

// WriteJSON writes the exported metrics of progs as mtail's one-shot JSON:
// an object from metric name to the list of metrics of that name, one per
// program, label sets in first-creation order. Hidden metrics are left out.
func WriteJSON(w io.Writer, progs []*Program) error {
	out := map[string][]jsonMetric{}
	for _, p := range progs {
		p.mu.Lock()
		for _, m := range p.metrics {
			if !m.Hidden {
				out[m.Name] = append(out[m.Name], m.json())
			}
		}
		p.mu.Unlock()
	}
	for _, ms := range out {
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].Program < ms[j].Program })
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(b) // no final newline, as mtail
	return err
}
