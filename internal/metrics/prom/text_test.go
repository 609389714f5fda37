package prom_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

// textStore builds the same store each call: every kind, labels out of
// name order, values needing escapes, event timestamps, reset_on_scrape,
// a native-only histogram and a family without series.
func textStore() *store.Store {
	s := store.New(0, nil, nil)
	k := func(vs ...string) []byte {
		var key []byte
		for _, v := range vs {
			key = store.AppendKeyString(key, v)
		}
		return key
	}
	c := s.Family(store.Options{Name: "req_total", Help: "Requests \\ with \"quotes\"\nand a newline.", Labels: []string{"z", "a", "m"}})
	c.Add(k("1", "b", "x"), 1)
	c.Add(k("0", "b", "x"), 2.5)
	c.Add(k(`q"uo\te`, "new\nline", ""), 1e21)
	c.Add(k("a", "a", "a"), 0)
	c.Add(k("", "", ""), -1)
	g := s.Family(store.Options{Name: "temp", Kind: store.Gauge, Labels: []string{"room"}, Unit: "celsius"})
	g.Set(k("hall"), -4.5)
	g.Set(k("attic"), 1e-7)
	r := s.Family(store.Options{Name: "per_scrape", Labels: []string{"x"}, ResetOnScrape: true})
	r.Add(k("y"), 3)
	h := s.Family(store.Options{Name: "lat", Help: "Latency.", Kind: store.Histogram, Labels: []string{"p"}, Buckets: []float64{0.1, 1, 2}})
	for _, v := range []float64{0.05, 0.5, 1.5, 9} {
		h.Observe(k("/"), v)
		h.Observe(k("/a"), v*2)
	}
	n := s.Family(store.Options{Name: "nat", Kind: store.Histogram, Native: true})
	n.Observe(nil, 3)
	ts := s.Family(store.Options{Name: "stamped_total", Labels: []string{"h"}, Timestamp: true})
	ts.AddAt(k("h1"), 1, store.Detail{Time: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC).UnixNano()})
	s.Family(store.Options{Name: "empty_total"})
	return s
}

// gatherText is what sluice printed before WriteText: client_golang's
// Gather, then expfmt's text encoder.
func gatherText(t *testing.T, s *store.Store) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewSeries(s))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestWriteTextMatchesGather: the streaming writer prints byte for byte
// what Gather and expfmt print.
func TestWriteTextMatchesGather(t *testing.T) {
	t.Parallel()
	want := gatherText(t, textStore())
	var got bytes.Buffer
	if err := prom.WriteText(&got, textStore()); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, want, got.String())
	parseText(t, got.Bytes())
}

// TestWriteTextInvalidUTF8: Gather refuses a label value that is not
// UTF-8 (and prints nothing); WriteText writes U+FFFD in its place, so
// the output still parses.
func TestWriteTextInvalidUTF8(t *testing.T) {
	t.Parallel()
	s := store.New(0, nil, nil)
	f := s.Family(store.Options{Name: "bad_total", Labels: []string{"v"}})
	f.Add(store.AppendKeyString(nil, "a\xffb\"\\\n"), 1)
	var got bytes.Buffer
	if err := prom.WriteText(&got, s); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, "# HELP bad_total \n# TYPE bad_total counter\nbad_total{v=\"a\uFFFDb\\\"\\\\\\n\"} 1\n", got.String())
	fams := parseText(t, got.Bytes())
	if v := fams["bad_total"].GetMetric()[0].GetLabel()[0].GetValue(); v != "a\uFFFDb\"\\\n" {
		t.Errorf("parsed label value %q", v)
	}
}

func parseText(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("expfmt cannot parse the output: %v\n%s", err, b)
	}
	return fams
}

// TestWriteTextPromtool: promtool check metrics parses the output (and
// the invalid UTF-8 case's); its lint findings about names and help texts
// of the test's families are not what is checked.
func TestWriteTextPromtool(t *testing.T) {
	t.Parallel()
	testutil.SkipIfShort(t)
	path, err := exec.LookPath("promtool")
	if err != nil {
		testutil.RequireCI(t, "promtool not on PATH (scripts/install-test-deps.sh installs it)")
	}
	var out bytes.Buffer
	if err := prom.WriteText(&out, textStore()); err != nil {
		t.Fatal(err)
	}
	s := store.New(0, nil, nil)
	s.Family(store.Options{Name: "bad_total", Help: "Bad.", Labels: []string{"v"}}).Add(store.AppendKeyString(nil, "a\xffb\"\\\n"), 1)
	if err := prom.WriteText(&out, s); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(out.Bytes())
	res, _ := cmd.CombinedOutput()
	if strings.Contains(string(res), "error") {
		t.Fatalf("promtool check metrics: %s\non:\n%s", res, out.Bytes())
	}
}

// FuzzWriteText: any label values and value come back from expfmt's
// parser as written (invalid UTF-8 as U+FFFD).
func FuzzWriteText(f *testing.F) {
	f.Add("a", "b\"c", 1.5)
	f.Add("\\\n", "\xff\xfe", -2.0)
	f.Add("", "\"\\n\"", 1e300)
	f.Fuzz(func(t *testing.T, v1, v2 string, x float64) {
		if x != x || x < 0 { // NaN and negatives are not counter values
			return
		}
		s := store.New(0, nil, nil)
		s.Family(store.Options{Name: "f_total", Labels: []string{"b", "a"}}).
			Add(store.AppendKeyString(store.AppendKeyString(nil, v1), v2), x)
		var out bytes.Buffer
		if err := prom.WriteText(&out, s); err != nil {
			t.Fatal(err)
		}
		m := parseText(t, out.Bytes())["f_total"].GetMetric()[0]
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		want := map[string]string{"b": strings.ToValidUTF8(v1, "\uFFFD"), "a": strings.ToValidUTF8(v2, "\uFFFD")}
		testutil.Diff(t, want, got)
		if m.GetCounter().GetValue() != x {
			t.Errorf("value %v, want %v", m.GetCounter().GetValue(), x)
		}
	})
}
