package nats

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	sinknats "github.com/sluice-log/sluice/internal/sink/nats"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestFromSinkPacked: events published by the nats sink, several per
// message, come out of the source one by one with their fields; a line
// that is not an event is counted and skipped, the rest of its message
// kept.
func TestFromSinkPacked(t *testing.T) {
	testutil.SkipIfShort(t)
	srv := natstest.Start(t)
	js := streamJS(t, srv)
	scfg := &sinknats.Config{}
	scfg.Defaults()
	scfg.URL, scfg.Subject, scfg.EventsPerMessage = srv.URL, "logs.{{.host}}", 10
	if err := scfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink, err := sinknats.New(scfg, component.Deps{ID: "sink"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close(context.Background()) }()
	b := &event.Batch{}
	for i := range 95 {
		b.Events = append(b.Events, event.Event{Timestamp: time.Unix(int64(i), 0).UTC(), Host: fmt.Sprint("h", i/50),
			Message: fmt.Appendf(nil, "m%d", i), Fields: event.Fields{{Key: "i", Value: event.Int(int64(i))}}})
	}
	if err := sink.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := publish(t, js, []byte("{\"message\":\"ok-1\"}\nnot json\n{\"message\":\"ok-2\"}")); err != nil {
		t.Fatal(err)
	}
	src, err := New(cfgFor(t, srv.URL), testutil.Deps(t, "src"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []event.Event
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx, func(_ context.Context, bt *event.Batch) error {
			mu.Lock()
			got = append(got, bt.Events...)
			mu.Unlock()
			bt.Ack.Release(0)
			return nil
		})
	}()
	testutil.WaitFor(t, 10*time.Second, "97 events", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 97 })
	cancel()
	<-done
	for i := range b.Events {
		testutil.Diff(t, b.Events[i].Map(), got[i].Map())
	}
	if m := string(got[95].Message) + "," + string(got[96].Message); m != "ok-1,ok-2" {
		t.Errorf("mixed message gave %q", m)
	}
}
