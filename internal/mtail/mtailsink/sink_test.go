package mtailsink_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/mtail/host"
	"github.com/sluice-log/sluice/internal/mtail/mtailsink"
	sluicetest "github.com/sluice-log/sluice/internal/testutil"
)

func write(t testing.TB, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newSink builds the sink of a metrics.mtail section over dir, on h.
func newSink(t testing.TB, h *host.Host, dir string, edit func(*mtailsink.Config)) *mtailsink.Sink {
	t.Helper()
	c := sluicetest.NewConfig(t, func(c *mtailsink.Config) {
		c.Programs = dir
		if edit != nil {
			edit(c)
		}
	})
	d := sluicetest.Deps(t, "metrics.mtail")
	d.MtailHost = h
	s, err := mtailsink.New(c, d)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*mtailsink.Sink)
}

func batch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Events = append(b.Events, event.Event{Stream: "app", Message: []byte(m)})
	}
	return b
}

// value is one sample of the host's programs' metrics, "" if absent.
func value(t *testing.T, h *host.Host, sample string) string {
	t.Helper()
	text := exposition(t, h.Programs())
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

func exposition(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	var b strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		b.WriteString(fmt.Sprint(mf.GetName()))
		for _, m := range mf.GetMetric() {
			b.WriteString("\n" + mf.GetName() + "{")
			for i, l := range m.GetLabel() {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			fmt.Fprintf(&b, "} %g", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestFilenameAndProgLabel: getfilename() is the event's `file` field,
// else its stream; the prog label can be turned off.
func TestFilenameAndProgLabel(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "f.mtail", "counter by_file by f\n/$/ { by_file[getfilename()]++ }\n")
	h := host.NewHost()
	s := newSink(t, h, dir, func(c *mtailsink.Config) { c.EmitProgLabel = false })
	b := batch("a", "b")
	b.Events[1].Fields.Set("file", event.String("/var/log/x.log"))
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil { // waits for the programs
		t.Fatal(err)
	}
	for _, want := range []string{`by_file{f="app"}`, `by_file{f="/var/log/x.log"}`} {
		if got := value(t, h, want); got != "1" {
			t.Errorf("%s = %q, want 1", want, got)
		}
	}
	// A reload without the section drops its programs' metrics.
	h.Retain(func(id string) bool { return id != "metrics.mtail" })
	if got := value(t, h, `by_file{f="app"}`); got != "" {
		t.Errorf("after Retain without the section: %q, want nothing", got)
	}
}

// TestReloadKeepsUnchanged: applying the set again after one program
// changed restarts only that one; a broken program keeps its old version
// and the error names its position; a program removed is gone.
func TestReloadKeepsUnchanged(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.mtail", "counter a_total\n/a/ { a_total++ }\n")
	write(t, dir, "b.mtail", "counter b_total\n/b/ { b_total++ }\n")
	h := host.NewHost()
	s := newSink(t, h, dir, nil)
	feed := func(msgs ...string) {
		t.Helper()
		if err := s.Write(t.Context(), batch(msgs...)); err != nil {
			t.Fatal(err)
		}
	}
	feed("a", "b", "ab")
	a, b := `a_total{prog="a.mtail"}`, `b_total{prog="b.mtail"}`
	sluicetest.WaitFor(t, 10*time.Second, "the first lines", func() bool {
		return value(t, h, a) == "2" && value(t, h, b) == "2"
	})

	write(t, dir, "b.mtail", "counter b_total\n/bb?/ { b_total++ }\n")
	// reapply is the app's SIGHUP: the section is validated (programs
	// compiled) by the config loader, then the host re-reads them.
	reapply := func(validate bool) error {
		c := &mtailsink.Config{}
		c.Defaults()
		c.Programs = dir
		if validate {
			if err := c.Validate(); err != nil {
				return err
			}
		}
		_, err := h.Apply("metrics.mtail", c.SetConfig(component.Deps{}))
		return err
	}
	if err := reapply(true); err != nil {
		t.Fatal(err)
	}
	feed("ab")
	sluicetest.WaitFor(t, 10*time.Second, "the line after the reload", func() bool {
		return value(t, h, a) == "3" && value(t, h, b) == "1"
	})

	write(t, dir, "a.mtail", "counter a_total\n/a/ { nope++ }\n")
	if err := reapply(true); err == nil || !strings.Contains(err.Error(), "a.mtail:2:7") {
		t.Fatalf("reload of a broken program: %v, want its position", err)
	}
	// The host alone (a file changed between validation and reload):
	// the broken program keeps its old version, the others apply.
	if err := os.Remove(filepath.Join(dir, "b.mtail")); err != nil {
		t.Fatal(err)
	}
	if err := reapply(false); err == nil || !strings.Contains(err.Error(), "a.mtail:2:7") {
		t.Fatalf("host reload of a broken program: %v, want its position", err)
	}
	feed("a")
	sluicetest.WaitFor(t, 10*time.Second, "the old a.mtail counting", func() bool { return value(t, h, a) == "4" })
	if got := value(t, h, b); got != "" {
		t.Errorf("removed program still exported: %s", got)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestSelfMetrics: lines, runtime errors and processing time per program.
func TestSelfMetrics(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "n.mtail", "counter n\n/(?P<x>\\d+|-)/ { n += $x }\n")
	h := host.NewHost()
	s := newSink(t, h, dir, func(c *mtailsink.Config) { c.LogRuntimeErrors = false })
	if err := s.Write(t.Context(), batch("1", "-", "2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := value(t, h, `n{prog="n.mtail"}`); got != "3" {
		t.Errorf("n = %s, want 3", got)
	}
	self := exposition(t, h.Self())
	for _, want := range []string{`sluice_mtail_lines_total{prog="n.mtail"} 3`, `sluice_mtail_runtime_errors_total{prog="n.mtail"} 1`,
		`sluice_mtail_program_loads_total{prog="n.mtail"} 1`} {
		if !strings.Contains(self, want+"\n") {
			t.Errorf("missing %s in\n%s", want, self)
		}
	}
	if !strings.Contains(self, `sluice_mtail_line_processing_seconds{prog="n.mtail"}`) {
		t.Errorf("no processing-time histogram in\n%s", self)
	}
}

// TestValidateErrors: a missing directory, a bad zone and a program that
// does not compile are config errors, with the program's position.
func TestValidateErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.mtail", "counter c\n/x/ {\n  c +=\n}\n")
	for _, tc := range []struct {
		edit func(*mtailsink.Config)
		want string
	}{
		{func(c *mtailsink.Config) {}, "programs: required"},
		{func(c *mtailsink.Config) { c.Programs = filepath.Join(dir, "none") }, "no such file"},
		{func(c *mtailsink.Config) { c.Programs, c.OverrideTimezone = dir, "Mars/Olympus" }, "override_timezone"},
		{func(c *mtailsink.Config) { c.Programs = dir }, "programs: bad.mtail:4:1: "},
	} {
		c := &mtailsink.Config{}
		c.Defaults()
		tc.edit(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v, want %q", err, tc.want)
		}
	}
}

// BenchmarkSinkWrite: four programs (apache_combined from the corpus,
// the 32-regex one, linecount and a status counter) over batches of 1000
// Apache lines, as the pipeline writes them. ns/op is per line, the
// programs' work included (each op waits for it by closing at the end);
// compare with -cpu 1 to see the cores used.
func BenchmarkSinkWrite(b *testing.B) {
	dir := b.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "shared", "compat", "mtail", "examples", "apache_combined.mtail"))
	if err != nil {
		b.Skip("the shared mtail corpus is missing")
	}
	write(b, dir, "apache_combined.mtail", string(src))
	write(b, dir, "regex32.mtail", regex32())
	write(b, dir, "linecount.mtail", "counter lines_total\n/$/ {\n  lines_total++\n}\n")
	write(b, dir, "status.mtail", "counter st by code\n/\" (?P<code>\\d{3}) / {\n  st[$code]++\n}\n")
	lines := sluicetest.ApacheLines(1000)
	bt := &event.Batch{}
	for _, l := range lines {
		bt.Events = append(bt.Events, event.Event{Stream: "/var/log/apache2/access.log", Message: []byte(l)})
	}
	h := host.NewHost()
	s := newSink(b, h, dir, func(c *mtailsink.Config) { c.LogRuntimeErrors = false })
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		_ = s.Write(context.Background(), bt)
		n += len(bt.Events)
	}
	_ = s.Close(context.Background())
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	wall := time.Since(start)
	b.ReportMetric(float64(n)/wall.Seconds(), "lines/s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
}

// regex32 is the 32-regex program of bench/mtail.sh.
func regex32() string {
	res := []string{`" 200 `, `" 301 `, `" 302 `, `" 304 `, `" 400 `, `" 401 `, `" 403 `, `" 404 `, `" 500 `, `" 502 `,
		`" 503 `, `"GET `, `"POST `, `"PUT `, `"DELETE `, `"HEAD `, `HTTP\/1\.0"`, `HTTP\/2\.0"`,
		`\/api\/v1\/users`, `\/api\/v1\/orders\/(\d+)`, `\/static\/\S+\.js`, `\/static\/\S+\.css`,
		`\/login`, `\/healthz`, `\/index\.html`, `[?&]id=(\d+)`, `Firefox\/(\d+)`, `Chrome\/(\d+)`,
		`curl\/`, `bot|crawler|spider`, `^10\.(\d+)\.`, `\[\d+\/Nov\/2026:0[0-5]:`}
	var b strings.Builder
	b.WriteString("counter hits by rule\n")
	for i, re := range res {
		fmt.Fprintf(&b, "/%s/ {\n  hits[\"r%02d\"]++\n}\n", re, i)
	}
	return b.String()
}
