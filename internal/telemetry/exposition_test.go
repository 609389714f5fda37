package telemetry_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/pipeline"
	_ "github.com/sluice-log/sluice/internal/sink/blackhole"
	_ "github.com/sluice-log/sluice/internal/sink/file"
	_ "github.com/sluice-log/sluice/internal/source/file"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
	_ "github.com/sluice-log/sluice/internal/transform/filter"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// docTable is the file holding the one table of the standard series.
const docTable = "../../docs/configuration.md"

// tableHeader starts the table; its rows are one series each.
const tableHeader = "| metric | type | source | transform | sink | meaning |"

var kinds = []string{"source", "transform", "sink"}

// row is what the table says about one series.
type row struct {
	Type  string          // "counter" or "gauge"
	Kinds map[string]bool // component kinds that have the series
}

// readTable parses the metrics table of docTable, by metric name.
func readTable(t *testing.T) map[string]row {
	t.Helper()
	f, err := os.Open(docTable)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	out := map[string]row{}
	in, line := false, 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line++
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == tableHeader:
			in = true
		case !in || strings.HasPrefix(text, "|---"):
		case !strings.HasPrefix(text, "|"):
			return out
		default:
			name, r, err := parseRow(text)
			if err != nil {
				t.Fatalf("%s:%d: %v", docTable, line, err)
			}
			out[name] = r
		}
	}
	if !in {
		t.Fatalf("%s: no table starting %q", docTable, tableHeader)
	}
	return out
}

func parseRow(text string) (string, row, error) {
	cells := strings.Split(strings.Trim(text, "|"), "|")
	if len(cells) < 6 {
		return "", row{}, fmt.Errorf("want 6 cells: %s", text)
	}
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	name := strings.Trim(cells[0], "`")
	r := row{Type: cells[1], Kinds: map[string]bool{}}
	if r.Type != "counter" && r.Type != "gauge" {
		return "", row{}, fmt.Errorf("%s: type %q, want counter or gauge", name, r.Type)
	}
	for i, k := range kinds {
		switch cells[2+i] {
		case "yes":
			r.Kinds[k] = true
		case "—":
		default:
			return "", row{}, fmt.Errorf("%s: %s cell %q, want yes or —", name, k, cells[2+i])
		}
	}
	return name, r, nil
}

// standard returns the series telemetry creates for every component, with
// their types: a kind that is none of the three has them all.
func standard(t *testing.T) map[string]row {
	t.Helper()
	reg := prometheus.NewRegistry()
	telemetry.New(reg).Component("any", "any", "any")
	out := map[string]row{}
	for _, mf := range gather(t, reg) {
		out[mf.GetName()] = row{Type: strings.ToLower(mf.GetType().String())}
	}
	return out
}

func gather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// TestDocTableIsComplete: the table lists exactly the standard series,
// each with its type.
func TestDocTableIsComplete(t *testing.T) {
	want := standard(t)
	got := readTable(t)
	for name, r := range got {
		got[name] = row{Type: r.Type}
	}
	testutil.Diff(t, want, got)
}

// TestExposition runs a file source, a filter transform and a file sink (and
// a blackhole sink reading the source too) over real files, then checks the
// registry against the table: every component has exactly the series of
// its kind, with the standard labels, and the counts agree along the graph.
func TestExposition(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	lines = append(lines, "drop", "drop", "drop")
	in := filepath.Join(dir, "in.log")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.log")
	reg := runPipeline(t, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  keep: { type: filter, inputs: [ in ], condition: 'message != "drop"' }
sinks:
  out: { type: file, inputs: [ keep ], path: %q, encoding: text }
  all: { type: blackhole, inputs: [ in ] }
`, in, out))

	table := readTable(t)
	values, kindLabels := series(t, reg, table)
	kindOf := map[string]string{"in": "source", "keep": "transform", "out": "sink", "all": "sink"}
	testutil.Diff(t, kindOf, kindLabels)
	checkSeriesSets(t, table, values, kindOf)

	const all, kept = 13, 10
	allBytes := float64(len(strings.Join(lines, "")))
	keptBytes := allBytes - 3*float64(len("drop"))
	for _, tc := range []struct {
		id, metric string
		want       float64
	}{
		{"in", "sluice_component_received_events_total", all},
		{"in", "sluice_component_sent_events_total", all},
		{"in", "sluice_component_received_bytes_total", allBytes},
		{"in", "sluice_component_sent_bytes_total", allBytes},
		{"keep", "sluice_component_received_events_total", all},
		{"keep", "sluice_component_sent_events_total", kept},
		{"keep", "sluice_component_received_bytes_total", allBytes},
		{"keep", "sluice_component_sent_bytes_total", keptBytes},
		{"keep", "sluice_buffer_events", 0},
		{"out", "sluice_component_received_events_total", kept},
		{"out", "sluice_component_sent_events_total", kept},
		{"out", "sluice_component_received_bytes_total", keptBytes},
		{"out", "sluice_component_sent_bytes_total", keptBytes},
		{"out", "sluice_sink_rejected_events_total", 0},
		{"out", "sluice_component_dropped_events_total", 0},
		{"out", "sluice_buffer_events", 0},
		{"all", "sluice_component_received_events_total", all},
		{"all", "sluice_component_sent_events_total", all},
		{"in", "sluice_component_errors_total", 0},
		{"keep", "sluice_component_errors_total", 0},
		{"out", "sluice_component_errors_total", 0},
	} {
		t.Run(tc.id+"/"+tc.metric, func(t *testing.T) {
			testutil.Diff(t, tc.want, values[tc.id][tc.metric])
		})
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, kept, strings.Count(string(written), "\n"))
}

// runPipeline runs the graph of yaml the way `sluice run --once` does, and
// returns the registry once everything is delivered.
func runPipeline(t *testing.T, yaml string) *prometheus.Registry {
	t.Helper()
	cfg, err := config.Parse(t.Name(), []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.DataDir = t.TempDir()
	reg := prometheus.NewRegistry()
	p := pipeline.New(pipeline.Options{Logger: logging.New(t.Output(), 0, false, 0),
		Metrics: telemetry.New(reg), Once: true})
	if err := p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	p.Stop(10 * time.Second)
	return reg
}

// series returns the values of the table's series, by component ID and
// metric name, and the component_kind label of each ID. It checks that each
// series carries exactly the standard labels and has the documented type.
func series(t *testing.T, reg *prometheus.Registry, table map[string]row) (map[string]map[string]float64, map[string]string) {
	t.Helper()
	out, kindLabels := map[string]map[string]float64{}, map[string]string{}
	for _, mf := range gather(t, reg) {
		r, ok := table[mf.GetName()]
		if !ok {
			continue // a component's own series, documented on its page
		}
		if got := strings.ToLower(mf.GetType().String()); got != r.Type {
			t.Errorf("%s is a %s, documented as a %s", mf.GetName(), got, r.Type)
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if len(labels) != 3 || labels["component_kind"] == "" || labels["component_type"] == "" {
				t.Errorf("%s has labels %v, want component_kind, component_type and component_id", mf.GetName(), labels)
			}
			id := labels["component_id"]
			kindLabels[id] = labels["component_kind"]
			if out[id] == nil {
				out[id] = map[string]float64{}
			}
			out[id][mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out, kindLabels
}

// checkSeriesSets checks that every component has exactly the series the
// table gives its kind.
func checkSeriesSets(t *testing.T, table map[string]row, values map[string]map[string]float64, kindOf map[string]string) {
	t.Helper()
	for id, kind := range kindOf {
		var want, got []string
		for name, r := range table {
			if r.Kinds[kind] {
				want = append(want, name)
			}
		}
		for name := range values[id] {
			got = append(got, name)
		}
		slices.Sort(want)
		slices.Sort(got)
		t.Run(id, func(t *testing.T) { testutil.Diff(t, want, got) })
	}
}
