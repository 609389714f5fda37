package syslog

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// BenchmarkTCPIngest sends 200-byte messages over one loopback connection
// into a source whose emit does nothing, and reports messages per second
// from the first write until the last message was emitted. Allocations
// are the whole process's, per message.
func BenchmarkTCPIngest(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame func(string) string
		head  string
	}{
		{"rfc3164_lf", func(m string) string { return m + "\n" }, "<13>Nov 22 02:33:01 benchhost synsend[4242]: seq=%010d "},
		{"rfc5424_octet", octet, "<13>1 2026-11-22T02:33:01.123456Z benchhost synsend 4242 - - seq=%010d "},
	} {
		b.Run(bc.name, func(b *testing.B) {
			head := fmt.Sprintf(bc.head, 1)
			msg := []byte(bc.frame(head + strings.Repeat("x", 200-len(head))))
			benchIngest(b, msg)
		})
	}
}

func benchIngest(b *testing.B, msg []byte) {
	c := &Config{}
	c.Defaults()
	c.Address, c.Timezone = "127.0.0.1:0", "UTC"
	s, err := New(testutil.Validated(b, c), testutil.Deps(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	src := s.(*Source)
	var got atomic.Int64
	emit := func(_ context.Context, batch *event.Batch) error {
		got.Add(int64(len(batch.Events)))
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	}()
	<-src.listening
	conn := dial(b, "tcp", src.Addr().String())
	w := bufio.NewWriterSize(conn, 256<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	t0 := time.Now()
	n := 0
	for b.Loop() {
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if !testutil.Eventually(time.Minute, func() bool { return got.Load() >= int64(n) }) {
		b.Fatalf("received %d of %d", got.Load(), n)
	}
	b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "msgs/s")
}
