package nats

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// BenchmarkWrite publishes batches of 1000 events of about 200 bytes to a
// real nats-server (file store), each Write waiting for every PubAck, one
// message per event and 100 events per message.
func BenchmarkWrite(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run(fmt.Sprintf("events_per_message=%d", per), func(b *testing.B) { benchWrite(b, per) })
	}
}

func benchWrite(b *testing.B, per int) {
	srv := natstest.Start(b)
	cfg := cfgFor(b, srv.URL, "logs.{{.host}}")
	cfg.EventsPerMessage = per
	s := mustSink(b, cfg)
	batch := sinktest.Batch("bench", 0, 1000)
	pad := " " + strings.Repeat("x", 100)
	for i := range batch.Events {
		batch.Events[i].Message = append(batch.Events[i].Message, pad...)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range batch.Events { // new events: no de-duplication
			batch.Events[i].Timestamp = batch.Events[i].Timestamp.Add(1)
		}
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch.Events)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
