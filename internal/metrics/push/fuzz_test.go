package push

import (
	"math"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// fuzzStore is a store with one family of the given kind, name and label
// names, holding one series of the given label values and value.
func fuzzStore(kind store.Kind, name string, labels []string, values []string, v float64) *store.Store {
	s := store.New(0, nil, nil)
	f := s.Family(store.Options{Name: name, Kind: kind, Labels: labels, Buckets: []float64{0.5, 2}})
	var k []byte
	for _, x := range values {
		k = store.AppendKeyString(k, x)
	}
	switch kind {
	case store.Histogram:
		f.Observe(k, v)
	case store.Gauge:
		f.Set(k, v)
	default:
		f.Add(k, v)
	}
	return s
}

func fuzzInputs(f *testing.F) {
	f.Add(uint8(0), "requests_total", "code", "200", "b", "x", 3.0)
	f.Add(uint8(1), "queue", "A", "", "__z", "\xff\x00\n", -2.5)
	f.Add(uint8(2), "lat", "path", "/a\"b\\c", "le0", strings.Repeat("x", 300), 1e300)
}

// FuzzRemoteWrite: whatever names, labels and values, the WriteRequest
// decodes (protowire, after snappy) into sorted labels, with the value
// and the snapshot's timestamp.
func FuzzRemoteWrite(f *testing.F) {
	fuzzInputs(f)
	f.Fuzz(func(t *testing.T, kind uint8, name, l1, v1, l2, v2 string, v float64) {
		if l1 == l2 || math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		s := fuzzStore(store.Kind(kind%3), name, []string{l1, l2}, []string{v1, v2}, v)
		chunks, n := (&remoteWrite{}).encode(take(s, at))
		raw, err := snappy.Decode(nil, chunks[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeWriteRequest(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d series decoded, %d encoded", len(got), n)
		}
		for _, g := range got {
			if g.TS != at.UnixMilli() {
				t.Fatalf("timestamp %d", g.TS)
			}
			if !strings.HasPrefix(g.Labels, "__name__="+name) && !strings.Contains(g.Labels, ",__name__="+name) {
				t.Fatalf("no __name__ %q in %q", name, g.Labels)
			}
			if v1 != "" && !strings.Contains(g.Labels, l1+"="+v1) {
				t.Fatalf("label %s=%s missing from %q", l1, v1, g.Labels)
			}
		}
		if k := store.Kind(kind % 3); k != store.Histogram && got[0].Value != v {
			t.Fatalf("value %v, want %v", got[0].Value, v)
		}
	})
}

// FuzzCollectdNetwork: every packet is within the MTU and decodes as
// collectd's network plugin would, each value list carrying the values
// and names (sanitized, within collectd's 127 bytes) that went in.
func FuzzCollectdNetwork(f *testing.F) {
	fuzzInputs(f)
	f.Fuzz(func(t *testing.T, kind uint8, name, l1, v1, l2, v2 string, v float64) {
		if l1 == l2 || math.IsNaN(v) || math.IsInf(v, 0) || len(name) > 100 {
			return
		}
		s := fuzzStore(store.Kind(kind%3), name, []string{l1, l2}, []string{v1, v2}, v)
		got, _, n := collectdNetwork(t, s, 1452)
		if len(got) != n {
			t.Fatalf("%d value lists decoded, %d encoded", len(got), n)
		}
		for _, g := range got {
			if len(g.TypeInstance) > maxName || strings.ContainsAny(g.TypeInstance, "/\"\\\n") {
				t.Fatalf("type instance %q", g.TypeInstance)
			}
			if !strings.HasPrefix(g.PluginInstance, name) || g.Host != "h" || g.Plugin != "sluice" {
				t.Fatalf("names %+v", g)
			}
			if g.Kind == dsGauge && kind%3 == uint8(store.Gauge) && g.Gauge != v {
				t.Fatalf("gauge %v, want %v", g.Gauge, v)
			}
		}
	})
}
