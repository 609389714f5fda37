package live

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// messages reads every stream's backlog back, oldest first per stream: for
// this sink, what is in the ring is what was delivered.
func messages(t testing.TB, st *Store) []string {
	var out []string
	for _, s := range st.Streams() {
		first, next := s.Bounds()
		_, buf, recs := s.ReadBefore(next, int(next-first), nil, nil)
		for _, r := range recs {
			rec, err := parseRecord(buf[r.off : r.off+r.n])
			if err != nil {
				t.Errorf("stream %s seq %d: %v", s.name, r.Seq, err)
				continue
			}
			out = append(out, string(rec.msg))
		}
	}
	return out
}

func newTestSink(t testing.TB, edit func(*Config)) *Sink {
	t.Helper()
	sk, err := New(testutil.NewConfig(t, edit), testutil.Deps(t, "live"))
	if err != nil {
		t.Fatal(err)
	}
	s := sk.(*Sink)
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

// TestConformance runs the sink suite; Received reads the rings back. The
// ring cannot fail, hang or restart, so those hooks are nil.
func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		s := newTestSink(t, nil)
		return &sinktest.Instance{Sink: s, Received: func() []string { return messages(t, s.store) }}
	}})
}

func ev(stream, msg string, ts time.Time, fields ...event.Field) event.Event {
	return event.Event{Timestamp: ts, Host: "h", Stream: stream, Message: []byte(msg), Fields: fields}
}

func TestStreamsAndRender(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	t0 := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	b := &event.Batch{Events: []event.Event{
		ev("api", "GET / 200", t0, event.Field{Key: "status", Value: event.Int(200)}),
		ev("db", "slow \"query\"\n", t0.Add(time.Millisecond)),
		ev("api", "GET /x 500", t0.Add(2*time.Millisecond), event.Field{Key: "status", Value: event.Int(500)}),
	}}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.store.Streams() {
		names = append(names, st.name)
	}
	testutil.Diff(t, []string{"api", "db"}, names)
	api := s.store.Get("api")
	_, buf, recs := api.ReadBefore(10, 10, nil, nil)
	testutil.Diff(t, 2, len(recs))
	rec, err := parseRecord(buf[recs[1].off : recs[1].off+recs[1].n])
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendLine(nil, "api", recs[1].Seq, &rec, recs[1].TS))
	want := `{"stream":"api","seq":1,"timestamp":"2026-12-06T04:00:00.002000000Z","event":` +
		`{"timestamp":"2026-12-06T04:00:00.002000000Z","host":"h","stream":"api","message":"GET /x 500","status":500}}`
	testutil.Diff(t, want, got)
}

func TestStreamField(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.StreamField = "app" })
	b := &event.Batch{Events: []event.Event{
		ev("x", "a", time.Now(), event.Field{Key: "app", Value: event.String("billing")}),
		ev("x", "b", time.Now()),
	}}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, 2, len(s.store.Streams()))
	if s.store.Get("billing") == nil || s.store.Get("") == nil {
		t.Errorf("want streams billing and the empty one")
	}
}

func TestMaxStreamsAndExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := testutil.NewConfig[Config](t, func(c *Config) { c.MaxStreams = 2; c.StreamIdle = 60_000_000_000 })
	s := newSink(cfg, testutil.Deps(t, "live"), clock)
	for i, name := range []string{"a", "b", "a", "c"} {
		now = now.Add(time.Second)
		if err := s.Write(t.Context(), &event.Batch{Events: []event.Event{ev(name, fmt.Sprint(i), now)}}); err != nil {
			t.Fatal(err)
		}
	}
	// b was the idlest when c came.
	testutil.Diff(t, []string{"a", "c"}, streamNames(s.store))
	testutil.Diff(t, uint64(1), s.store.evicted.Load())
	now = now.Add(60 * time.Second)
	testutil.Diff(t, 1, s.store.Expire(now)) // a was last seen 61 s ago; c 60 s ago, not over
	testutil.Diff(t, []string{"c"}, streamNames(s.store))
}

func streamNames(st *Store) []string {
	var out []string
	for _, s := range st.Streams() {
		out = append(out, s.name)
	}
	return out
}

func TestLongLineCut(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.MaxBytes = 4096 })
	long := strings.Repeat("x", 10000)
	if err := s.Write(t.Context(), &event.Batch{Events: []event.Event{ev("s", long, time.Now())}}); err != nil {
		t.Fatal(err)
	}
	got := messages(t, s.store)
	if len(got) != 1 || len(got[0]) > 1024 || !strings.HasPrefix(long, got[0]) {
		t.Fatalf("kept %d lines, first %d bytes; want one cut to at most 1024", len(got), len(got[0]))
	}
	testutil.Diff(t, 1.0, testutil.CounterValue(t, s.deps.Metrics.Errors))
}

// TestSkippedExact: a cursor that the ring moved past learns exactly how
// many records it missed, and reading on from there loses nothing else.
func TestSkippedExact(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.MaxLines = 100 })
	write := func(from, n int) {
		b := &event.Batch{}
		for i := from; i < from+n; i++ {
			b.Events = append(b.Events, ev("s", fmt.Sprint(i), time.Now()))
		}
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 50)
	st := s.store.Get("s")
	next, skipped, _, recs := st.ReadFrom(0, 10, 1<<20, nil, nil)
	testutil.Diff(t, uint64(10), next)
	testutil.Diff(t, uint64(0), skipped)
	testutil.Diff(t, 10, len(recs))
	write(50, 250) // seqs 0..299, ring keeps 200..299
	next, skipped, _, recs = st.ReadFrom(next, 1000, 1<<20, nil, nil)
	testutil.Diff(t, uint64(190), skipped) // 10..199
	testutil.Diff(t, 100, len(recs))
	testutil.Diff(t, uint64(300), next)
}

// TestConcurrentWritersAndReaders runs the sink's writer (batches from
// several goroutines, serialised as the pipeline does) against many
// cursors reading at their own pace under -race: each reader's shown plus
// skipped equals everything written, in seq order with no gap.
func TestConcurrentWritersAndReaders(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.MaxLines = 64 })
	const writers, perWriter, readers = 4, 500, 16
	var wmu sync.Mutex // the pipeline never calls Write concurrently
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				wmu.Lock()
				err := s.Write(t.Context(), &event.Batch{Events: []event.Event{ev("s", fmt.Sprintf("%d-%d", w, i), time.Now())}})
				wmu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	const total = writers * perWriter
	results := make([][2]uint64, readers)
	for r := range readers {
		wg.Go(func() {
			var next, shown, skipped uint64
			var buf []byte
			var recs []Rec
			for next < total {
				st := s.store.Get("s")
				if st == nil {
					<-s.store.Changed()
					continue
				}
				ch := s.store.Changed()
				var sk uint64
				before := next
				next, sk, buf, recs = st.ReadFrom(next, 1+r, 1<<20, buf[:0], recs[:0])
				for i, rec := range recs {
					if rec.Seq != before+sk+uint64(i) {
						t.Errorf("reader %d: seq %d at %d, want %d", r, rec.Seq, i, before+sk+uint64(i))
					}
				}
				shown += uint64(len(recs))
				skipped += sk
				if len(recs) == 0 && next < total {
					<-ch
				}
			}
			results[r] = [2]uint64{shown, skipped}
		})
	}
	wg.Wait()
	for r, res := range results {
		if res[0]+res[1] != total {
			t.Errorf("reader %d: shown %d + skipped %d != %d", r, res[0], res[1], total)
		}
	}
}

func TestRoutesRefuseCrossOrigin(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	srv := newAPIServer(t, s, "")
	for _, route := range Routes {
		path := strings.TrimPrefix(route, "GET ")
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path+"?stream=x", nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		testutil.Diff(t, http.StatusForbidden, resp.StatusCode)
	}
}

// TestBacklogKeptAcrossRestart: Close saves the backlog under the data
// directory and the next sink starts with it; a damaged file is set aside
// and counted, and the sink starts empty.
func TestBacklogKeptAcrossRestart(t *testing.T) {
	t.Parallel()
	deps := testutil.Deps(t, "live")
	build := func() *Sink {
		sk, err := New(testutil.NewConfig[Config](t, func(c *Config) { c.MaxLines = 5 }), deps)
		if err != nil {
			t.Fatal(err)
		}
		return sk.(*Sink)
	}
	s := build()
	write(t, s, "a", 0, 8)
	write(t, s, "b", 0, 2)
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	s2 := build()
	testutil.Diff(t, []string{"a line 3", "a line 4", "a line 5", "a line 6", "a line 7", "b line 0", "b line 1"}, messages(t, s2.store))
	// The lines keep their numbers, so a viewer's after=a:SEQ still
	// points at the line it saw.
	for name, want := range map[string][2]uint64{"a": {3, 8}, "b": {0, 2}} {
		first, next := s2.store.Get(name).Bounds()
		testutil.Diff(t, want, [2]uint64{first, next})
	}
	write(t, s2, "a", 8, 1)
	testutil.Diff(t, "a line 8", messages(t, s2.store)[4])
	if err := s2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(deps.DataDir, spillFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	errs := testutil.CounterValue(t, deps.Metrics.Errors)
	s3 := build()
	t.Cleanup(func() { _ = s3.Close(t.Context()) })
	testutil.Diff(t, errs+1, testutil.CounterValue(t, deps.Metrics.Errors))
	if _, err := os.Stat(path + ".bad"); err != nil {
		t.Errorf("damaged file not set aside: %v", err)
	}
}
