package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

const (
	benchEvents  = 1000
	benchMessage = 200
)

func benchBatch() []event.Event {
	evs := make([]event.Event, benchEvents)
	msg := make([]byte, benchMessage)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	ts := time.Unix(1700000000, 0).UTC()
	for i := range evs {
		evs[i] = event.Event{Timestamp: ts.Add(time.Duration(i)), Host: "web-1", Stream: "/var/log/nginx/access.log", Message: msg}
	}
	return evs
}

// chunk is how many batches each side writes per benchmark iteration.
const chunk = 8

// BenchmarkDiskBuffer measures Push+Pop+Ack of 1000-event batches of
// 200-byte messages through the buffer with fsync always, against the floor
// of writing the same record bytes to a file with f.Sync() per batch. The
// two alternate in chunks of 8 batches, so both see the same disk and CPU
// load (the machine is shared), and each reports MB/s of message bytes and
// events/s; ratio is buffer/floor throughput. serial waits for each push to
// be durable before the next (one sync per batch, like one source with one
// batch in flight; the sink reads the record while it is being synced);
// pipelined lets pushes run ahead (group commit).
func BenchmarkDiskBuffer(b *testing.B) {
	evs := benchBatch()
	for _, tc := range []struct {
		name   string
		policy FsyncPolicy
		serial bool
	}{
		{"fsync=always/serial", FsyncAlways, true},
		{"fsync=always/pipelined", FsyncAlways, false},
		{"fsync=never/pipelined", FsyncNever, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			floor := newFloor(b, evs)
			bb := newBenchBuffer(b, tc.policy)
			var floorTime, bufTime time.Duration
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				floor.write(b)
				t1 := time.Now()
				bb.run(b, evs, tc.serial)
				bufTime += time.Since(t1)
				floorTime += t1.Sub(t0)
				n += chunk
			}
			b.StopTimer()
			bb.buf.Shutdown()
			const size = benchEvents * benchMessage
			floorRate := float64(n) / floorTime.Seconds()
			bufRate := float64(n) / bufTime.Seconds()
			b.ReportMetric(floorRate*size/1e6, "floor-MB/s")
			b.ReportMetric(floorRate*benchEvents, "floor-events/s")
			b.ReportMetric(bufRate*size/1e6, "buffer-MB/s")
			b.ReportMetric(bufRate*benchEvents, "buffer-events/s")
			b.ReportMetric(bufRate/floorRate, "ratio")
		})
	}
}

type floorFile struct {
	f   *os.File
	rec []byte
}

func newFloor(b *testing.B, evs []event.Event) *floorFile {
	rec, err := appendRecord(nil, evs)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(b.TempDir(), "floor"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return &floorFile{f: f, rec: rec}
}

func (fl *floorFile) write(b *testing.B) {
	for range chunk {
		if _, err := fl.f.Write(fl.rec); err != nil {
			b.Fatal(err)
		}
		if err := fl.f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

type benchBuffer struct {
	buf     *Buffer
	durable chan struct{}
	done    func(ack.Status)
}

func newBenchBuffer(b *testing.B, policy FsyncPolicy) *benchBuffer {
	buf, err := Open(filepath.Join(b.TempDir(), "buf"), Options{Fsync: policy},
		telemetry.Discard("sink", "bench", "b"), discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	bb := &benchBuffer{buf: buf, durable: make(chan struct{}, chunk)}
	bb.done = func(s ack.Status) {
		if s != ack.Delivered {
			panic(fmt.Sprintf("upstream token released %v", s))
		}
		bb.durable <- struct{}{}
	}
	return bb
}

// run pushes, pops and acknowledges chunk batches and waits until all of
// them are durable.
func (bb *benchBuffer) run(b *testing.B, evs []event.Event, serial bool) {
	for range chunk {
		if err := bb.buf.Push(b.Context(), &event.Batch{Events: evs, Ack: ack.New(bb.done)}); err != nil {
			b.Fatal(err)
		}
		out, err := bb.buf.Pop(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		out.Ack.Release(ack.Delivered)
		if serial {
			<-bb.durable
		}
	}
	if !serial {
		for range chunk {
			<-bb.durable
		}
	}
}

func BenchmarkEncodeBatch(b *testing.B) {
	evs := benchBatch()
	var buf []byte
	b.SetBytes(benchEvents * benchMessage)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = appendRecord(buf[:0], evs); err != nil {
			b.Fatal(err)
		}
	}
}
