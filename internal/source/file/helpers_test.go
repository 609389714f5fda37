package file

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

// env is a log directory, a data dir and metrics shared by the source
// instances of one test, so restarts see the previous checkpoint.
type env struct {
	t    testing.TB
	dir  string
	deps component.Deps
	reg  *prometheus.Registry
}

func newEnv(t testing.TB) *env {
	reg := prometheus.NewRegistry()
	deps := testutil.Deps(t, "logs")
	deps.Metrics = telemetry.New(reg).Component("source", "file", "logs")
	return &env{t: t, dir: t.TempDir(), deps: deps, reg: reg}
}

// config returns a config following dir/*.log with fast test intervals.
func (e *env) config(mod ...func(*Config)) *Config {
	c := &Config{}
	c.Defaults()
	c.Include = []string{filepath.Join(e.dir, "*.log")}
	c.GlobInterval = cfgDur(50 * time.Millisecond)
	c.PollInterval = cfgDur(10 * time.Millisecond)
	c.CheckpointInterval = cfgDur(20 * time.Millisecond)
	c.RotateWait = cfgDur(100 * time.Millisecond)
	c.WatchDirectories = false // notifications do not work in synctest bubbles
	for _, m := range mod {
		m(c)
	}
	return c
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

// write appends s to the named file, creating it.
func (e *env) write(name, s string) {
	e.t.Helper()
	f, err := os.OpenFile(e.path(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		e.t.Fatal(err)
	}
}

// lines returns "prefix1\n".."prefixN\n" and the lines without newlines.
func numbered(prefix string, from, to int) (string, []string) {
	var b strings.Builder
	var out []string
	for i := from; i <= to; i++ {
		l := fmt.Sprintf("%s%d", prefix, i)
		b.WriteString(l + "\n")
		out = append(out, l)
	}
	return b.String(), out
}

// run is one running source instance.
type run struct {
	src    *Source
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err set
	err    error
}

// wait waits for Run to return and returns its error.
func (r *run) wait() error {
	<-r.done
	return r.err
}

// start runs a source over cfg, emitting into emit.
func (e *env) start(cfg *Config, emit component.Emit) *run {
	e.t.Helper()
	s, err := New(testutil.Validated(e.t, cfg), e.deps)
	if err != nil {
		e.t.Fatal(err)
	}
	src := s.(*Source)
	src.waitMax = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{src: src, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = src.Run(ctx, emit)
		close(r.done)
	}()
	e.t.Cleanup(func() {
		r.cancel()
		<-r.done
	})
	return r
}

// stop cancels the instance and waits for Run to return.
func (r *run) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func cfgDur(d time.Duration) config.Duration { return config.Duration(d) }

func syncWait() { synctest.Wait() }

// step lets fake time pass and the source settle (inside synctest).
func step(d time.Duration) {
	time.Sleep(d)
	syncWait()
}

// checkpoint reads the saved checkpoint, keyed by base name of the path.
func (e *env) checkpoint() map[string]int64 {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.deps.DataDir, checkpointFile))
	if err != nil {
		e.t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, f := range st.Files {
		out[filepath.Base(f.Path)] = f.Offset
	}
	return out
}

// metric returns the value of a sluice_ counter or gauge with the given
// extra label value ("" for none).
func (e *env) metric(name, label string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sluice_"+name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && !hasLabelValue(m.GetLabel(), label) {
				continue
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func hasLabelValue(ls []*dto.LabelPair, v string) bool {
	for _, l := range ls {
		if l.GetValue() == v {
			return true
		}
	}
	return false
}

// tokens is an emit that keeps every batch and its token, so a test can
// release them one by one, in any order.
type tokens struct {
	mu      sync.Mutex
	batches []*event.Batch
}

func (k *tokens) emit(_ context.Context, b *event.Batch) error {
	k.mu.Lock()
	k.batches = append(k.batches, b)
	k.mu.Unlock()
	return nil
}

func (k *tokens) release(i int, s ack.Status) {
	k.mu.Lock()
	b := k.batches[i]
	k.mu.Unlock()
	b.Ack.Release(s)
}

func (k *tokens) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.batches)
}
