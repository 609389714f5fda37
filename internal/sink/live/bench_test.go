package live

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// benchBatch is 100 access-log events over three streams, with two
// fields each, as a parse transform leaves them.
func benchBatch() *event.Batch {
	evs := testutil.AccessLogEvents(100)
	for i := range evs {
		evs[i].Stream = fmt.Sprintf("web-%d", i%3)
		evs[i].Fields = event.Fields{{Key: "status", Value: event.Int(200)}, {Key: "path", Value: event.String("/api/v1/users")}}
	}
	return &event.Batch{Events: evs}
}

// BenchmarkWrite is the write path: ns and allocations per event appended
// to the rings (the rings at their working size).
func BenchmarkWrite(b *testing.B) {
	s := newSink(testutil.NewConfig[Config](b, nil), testutil.Deps(b, "live"), time.Now)
	batch := benchBatch()
	for range 200 { // grow the rings to their bounds
		_ = s.Write(b.Context(), batch)
	}
	b.ReportAllocs()
	b.SetBytes(int64(batch.Size()))
	for b.Loop() {
		if err := s.Write(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Events)), "ns/event")
}

// BenchmarkFollowFrame is a viewer's read path: copying new lines out of a
// ring and rendering them as an SSE frame, per line.
func BenchmarkFollowFrame(b *testing.B) {
	s := newSink(testutil.NewConfig[Config](b, nil), testutil.Deps(b, "live"), time.Now)
	batch := benchBatch()
	for range 100 {
		_ = s.Write(b.Context(), batch)
	}
	q, _ := ParseQuery(nil)
	f := &follower{st: s.store, q: q}
	f.m.q = &f.q
	for _, name := range []string{"web-0", "web-1", "web-2"} {
		f.curs = append(f.curs, cursor{name: name, s: s.store.Get(name)})
	}
	b.ReportAllocs()
	lines := 0
	for b.Loop() {
		f.shown = 0
		for i := range f.curs {
			f.curs[i].next = 0
		}
		for full := true; full; {
			full = f.frame()
		}
		lines += int(f.shown)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
}

// TestMemoryPerStreamBacklog reports the heap a full default stream holds.
func TestMemoryPerStreamBacklog(t *testing.T) {
	testutil.SkipIfShort(t)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	s := newSink(testutil.NewConfig[Config](t, nil), testutil.Deps(t, "live"), time.Now)
	batch := benchBatch()
	for range 400 {
		_ = s.Write(t.Context(), batch)
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	var lines, bytes int
	for _, st := range s.store.Streams() {
		i := st.Info(time.Now())
		lines, bytes = lines+i.Lines, bytes+i.Bytes
	}
	t.Logf("3 streams, %d lines, %d record bytes: heap +%.1f MiB", lines, bytes, float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20))
	runtime.KeepAlive(s)
}
