package drains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// instance is one (app, drain URL) pair: a sink built from the URL, its
// own queue and its own delivery goroutine with retries. Nothing it does
// can block the router: the router only pushes into its queue, which drops
// its oldest events when the destination cannot keep up. It starts with
// the first route to it and, when the last one goes away, flushes for at
// most flush_timeout, counts what is left as dropped, and closes.
type instance struct {
	id, app, url string // url is redacted, for display
	sink         component.Sink
	q            *queue
	log          *slog.Logger
	batch        int
	retry        backoff.Exponential
	flush        time.Duration

	delivered, rejected atomic.Int64
	failing             atomic.Bool
	lastErr             atomic.Pointer[string]

	mDelivered, mDropped, mRejected prometheus.Counter
	mBuffered                       prometheus.Gauge

	pending []event.Event // the router's scratch, used only under its lock
	stop    context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

func newInstance(id, app, url string, s component.Sink, c *Config, m *telemetry.Component, log *slog.Logger) *instance {
	in := &instance{id: id, app: app, url: url, sink: s, q: newQueue(c.MaxEvents), batch: c.BatchEvents,
		log: log.With("drain", id, "app", app, "url", url), flush: c.FlushTimeout.D(),
		retry: backoff.Exponential{Base: 100 * time.Millisecond, Max: c.MaxBackoff.D(), Jitter: true},
		done:  make(chan struct{})}
	if m != nil {
		l := []string{"drain"}
		in.mDelivered = m.Counter("drain_delivered_events_total", "Events a drain's destination took.", l, id)
		in.mDropped = m.Counter("drain_dropped_events_total", "Events a drain's full buffer dropped (oldest first), or left undelivered when it closed.", l, id)
		in.mRejected = m.Counter("drain_rejected_events_total", "Events a drain's destination refused for good.", l, id)
		in.mBuffered = m.Gauge("drain_buffered_events", "Events waiting in a drain's own buffer.", l, id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go in.run(ctx)
	return in
}

// push queues evs for delivery; it never blocks.
func (in *instance) push(evs []event.Event) {
	dropped, ok := in.q.push(evs)
	if !ok {
		dropped = len(evs)
	}
	if dropped > 0 && in.mDropped != nil {
		in.mDropped.Add(float64(dropped))
	}
}

// run delivers until the queue is closed and empty, or ctx is done.
func (in *instance) run(ctx context.Context) {
	defer close(in.done)
	var buf []event.Event
	for {
		buf = in.q.take(buf, in.batch)
		in.gauge()
		if len(buf) == 0 {
			if in.q.isClosed() {
				return
			}
			select {
			case <-in.q.signal:
			case <-ctx.Done():
				return
			}
			continue
		}
		if !in.deliver(ctx, buf) {
			return
		}
		in.warnAfterDrops()
	}
}

// deliver writes evs until they are taken or refused for good; it returns
// false when ctx ended first.
func (in *instance) deliver(ctx context.Context, evs []event.Event) bool {
	b := &event.Batch{Events: evs}
	for attempt := 0; ; attempt++ {
		err := in.sink.Write(ctx, b)
		var rej *component.RejectError
		var part *component.PartialError
		switch {
		case err == nil:
			in.ok(len(b.Events))
			return true
		case errors.As(err, &part) && len(part.Outcomes) == len(b.Events):
			b = in.partial(b, part.Outcomes)
			if len(b.Events) == 0 {
				return true
			}
		case errors.As(err, &rej):
			in.setErr(err)
			in.rejected.Add(int64(len(b.Events)))
			if in.mRejected != nil {
				in.mRejected.Add(float64(len(b.Events)))
			}
			in.log.Error("drain rejected events", "events", len(b.Events), "error", err)
			return true
		default:
			in.setErr(err)
			if attempt == 0 {
				in.log.Warn("drain write failed; retrying", "events", len(b.Events), "error", err)
			}
		}
		if !backoff.Sleep(ctx, in.retry.Delay(attempt)) {
			in.drop(len(b.Events))
			return false
		}
	}
}

// partial counts the taken and refused events of a partial failure and
// returns the ones to retry.
func (in *instance) partial(b *event.Batch, outcomes []component.Outcome) *event.Batch {
	retry := &event.Batch{}
	var ok, rej int
	for i, o := range outcomes {
		switch o {
		case component.OK:
			ok++
		case component.Reject:
			rej++
		default:
			retry.Events = append(retry.Events, b.Events[i])
		}
	}
	in.ok(ok)
	in.rejected.Add(int64(rej))
	if in.mRejected != nil {
		in.mRejected.Add(float64(rej))
	}
	return retry
}

func (in *instance) ok(n int) {
	in.failing.Store(false)
	in.delivered.Add(int64(n))
	if in.mDelivered != nil {
		in.mDelivered.Add(float64(n))
	}
}

func (in *instance) setErr(err error) {
	in.failing.Store(true)
	s := err.Error()
	in.lastErr.Store(&s)
}

func (in *instance) drop(n int) {
	if in.mDropped != nil && n > 0 {
		in.mDropped.Add(float64(n))
	}
}

// warnAfterDrops puts logplex's L10 warning at the head of the drain's
// stream after a delivery that followed drops, so whoever reads the drain
// learns that messages are missing and since when.
func (in *instance) warnAfterDrops() {
	n, since := in.q.takeDrops()
	if n == 0 {
		return
	}
	msg := fmt.Sprintf("Error L10 (output buffer overflow): %d messages dropped since %s.", n, since.UTC().Format(time.RFC3339))
	e := event.Event{Timestamp: time.Now().UTC(), Stream: in.app, Message: []byte(msg)}
	e.Fields.Set("drain_id", event.String(in.id))
	e.Fields.Set("error_code", event.String("L10"))
	in.q.pushFront(e)
	in.log.Warn("drain recovered after dropping events", "dropped", n, "since", since)
}

func (in *instance) gauge() {
	if in.mBuffered != nil {
		in.mBuffered.Set(float64(in.q.len()))
	}
}

// close stops taking events, lets the drain flush for at most the flush
// timeout (or until ctx ends), counts what is left as dropped and closes
// the sink. It is idempotent.
func (in *instance) close(ctx context.Context) {
	in.once.Do(func() {
		in.q.close()
		t := time.NewTimer(in.flush)
		defer t.Stop()
		select {
		case <-in.done:
		case <-t.C:
		case <-ctx.Done():
		}
		in.stop()
		<-in.done
		left := in.q.take(nil, in.q.len())
		in.drop(len(left))
		in.gauge()
		if err := in.sink.Close(context.WithoutCancel(ctx)); err != nil {
			in.log.Warn("closing drain", "error", err)
		}
	})
}

// status is the drain's state for the API.
func (in *instance) status() (state string, lastErr string) {
	if p := in.lastErr.Load(); p != nil {
		lastErr = *p
	}
	switch {
	case in.q.isClosed():
		return "closing", lastErr
	case in.failing.Load():
		return "failing", lastErr
	}
	return "connected", lastErr
}
