package linesource

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/lines"
	"github.com/sluice-log/sluice/internal/testutil"
)

// randomChunks returns data in reads of random length, some of them empty
// of data but carrying nothing else, as slow writers produce.
type randomChunks struct {
	data []byte
	rng  *rand.Rand
}

func (r *randomChunks) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rng.IntN(64))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzPump feeds random input in random chunks: no byte may be lost or
// reordered in split mode, no line may exceed the limit, no batch its size.
func FuzzPump(f *testing.F) {
	f.Add([]byte("a\nbb\nccc"), uint64(1), 2, false, 1)
	f.Add([]byte("\n\n\n"), uint64(2), 1, true, 2)
	f.Add([]byte("a long line without a newline"), uint64(3), 5, false, 3)
	f.Add([]byte("abc\r\ndef\n\xff\xfe\n"), uint64(4), 3, true, 1000)
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, max int, truncate bool, batchLines int) {
		if max <= 0 || max > 1<<12 || batchLines <= 0 || batchLines > 1<<12 {
			return
		}
		o := testOptions(max, lines.Split)
		if truncate {
			o.Mode = lines.Truncate
		}
		o.BatchLines = batchLines
		o.BatchBytes = 1 + int(seed%512)
		var c testutil.Collector
		in := &randomChunks{data: data, rng: rand.New(rand.NewPCG(seed, seed>>1))}
		done := make(chan error, 1)
		go func() { done <- Pump(context.Background(), Input{R: in}, c.Emit, o) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Pump: %v", err)
			}
		case <-time.After(2 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("Pump hangs:\n%s", buf[:runtime.Stack(buf, true)])
		}
		checkPumped(t, data, o, c.Batches)
	})
}

func checkPumped(t *testing.T, data []byte, o *Options, batches []*event.Batch) {
	t.Helper()
	var got []byte
	events := 0
	for _, b := range batches {
		if len(b.Events) == 0 || len(b.Events) > o.BatchLines {
			t.Fatalf("batch of %d events, limit %d", len(b.Events), o.BatchLines)
		}
		for _, e := range b.Events {
			if len(e.Message) > o.MaxLineBytes {
				t.Fatalf("message of %d bytes, limit %d", len(e.Message), o.MaxLineBytes)
			}
			got = append(got, e.Message...)
			events++
		}
	}
	want := bytes.ReplaceAll(data, []byte("\n"), nil)
	if o.Mode == lines.Split && !bytes.Equal(got, want) {
		t.Fatalf("split mode changed the bytes:\n got %q\nwant %q", got, want)
	}
	if o.Mode == lines.Truncate && len(got) > len(want) {
		t.Fatalf("truncate mode produced %d bytes from %d", len(got), len(want))
	}
	if o.Mode == lines.Truncate && events > bytes.Count(data, []byte("\n"))+1 {
		t.Fatalf("truncate mode produced %d events from %d lines", events, bytes.Count(data, []byte("\n"))+1)
	}
}

func BenchmarkPump(b *testing.B) {
	const n = 10000
	line := bytes.Repeat([]byte("x"), 199)
	data := bytes.Repeat(append(line, '\n'), n)
	o := testOptions(256<<10, lines.Split)
	discard := func(context.Context, *event.Batch) error { return nil }
	rd := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(data)
		if err := Pump(context.Background(), Input{R: rd}, discard, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}
