package nats

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil"
)

// BenchmarkConsume reads b.N events of about 200 bytes from a real
// nats-server through the source, acknowledging each batch at once: one
// message per event, and 100 events per message.
func BenchmarkConsume(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run(fmt.Sprintf("events_per_message=%d", per), func(b *testing.B) { benchConsume(b, per) })
	}
}

func benchConsume(b *testing.B, per int) {
	srv := natstest.Start(b)
	js := streamJS(b, srv)
	e := event.Event{Timestamp: time.Now(), Host: "h", Message: []byte(strings.Repeat("x", 140))}
	var data []byte
	for i := range per {
		if i > 0 {
			data = append(data, '\n')
		}
		data = codec.JSON.Encode(data, &e)
	}
	for i := 0; i < (b.N+per-1)/per; i++ {
		if _, err := js.PublishAsync("logs.bench", data); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	cfg := cfgFor(b, srv.URL)
	cfg.BatchSize = 1000
	src, err := New(cfg, testutil.Deps(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		defer close(done)
		_ = src.Run(ctx, func(_ context.Context, bt *event.Batch) error {
			got.Add(int64(len(bt.Events)))
			bt.Ack.Release(0)
			return nil
		})
	}()
	testutil.WaitFor(b, 5*time.Minute, "every event consumed", func() bool { return got.Load() >= int64(b.N) })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	cancel()
	<-done
}
