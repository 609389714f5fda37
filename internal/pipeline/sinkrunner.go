package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// sinkRunner moves batches from a sink's buffer into the sink: it groups
// them up to the configured batch size, writes, and retries whatever the
// sink reports as transient, with exponential backoff and jitter, forever.
// Retrying is the runner's job so that no sink needs its own retry loop.
type sinkRunner struct {
	sink    component.Sink
	buf     buffer.Buffer
	batch   config.Batch
	retry   backoff.Exponential
	metrics *telemetry.Component
	log     *slog.Logger
	// health turns failed while writes fail as a whole, running again at
	// the next write the destination answers.
	health *health
	// undelivered counts the events abandoned at a hard stop.
	undelivered *atomic.Int64
	// giveUp, when positive, bounds how long one batch is retried.
	giveUp time.Duration
	// rejected counts the events destinations refused for good.
	rejected *atomic.Int64
	// durable: the buffer keeps abandoned batches (disk).
	durable bool

	carry *event.Batch // remainder of a batch split at max_events
}

// run delivers until the buffer is closed and drained, or ctx is done.
func (r *sinkRunner) run(ctx context.Context) {
	for {
		b, err := r.next(ctx)
		if err != nil {
			return
		}
		r.deliver(ctx, b)
	}
}

// next collects one write's worth of events: at least one batch, then more
// until max_events or max_bytes is reached or batch.timeout passes.
func (r *sinkRunner) next(ctx context.Context) (*event.Batch, error) {
	first, err := r.pop(ctx)
	if err != nil {
		return nil, err
	}
	out := r.take(first, r.batch.MaxEvents)
	if len(out.Events) >= r.batch.MaxEvents || r.carry != nil {
		return out, nil
	}
	size := out.Size()
	deadline, cancel := context.WithTimeout(ctx, r.batch.Timeout.D())
	defer cancel()
	tokens := []*ack.Token{out.Ack}
	for len(out.Events) < r.batch.MaxEvents && int64(size) < int64(r.batch.MaxBytes) {
		b, err := r.pop(deadline)
		if err != nil {
			break
		}
		part := r.take(b, r.batch.MaxEvents-len(out.Events))
		out.Events = append(out.Events, part.Events...)
		tokens = append(tokens, part.Ack)
		size += part.Size()
		if r.carry != nil {
			break
		}
	}
	out.Ack = ack.Join(tokens...)
	return out, nil
}

func (r *sinkRunner) pop(ctx context.Context) (*event.Batch, error) {
	if r.carry != nil {
		b := r.carry
		r.carry = nil
		return b, nil
	}
	return r.buf.Pop(ctx)
}

// take returns up to max events of b, keeping the rest as carry. Both parts
// hold the same token, retained once more for the split. The first part gets
// its own array because next appends to it.
func (r *sinkRunner) take(b *event.Batch, max int) *event.Batch {
	if len(b.Events) <= max {
		return b
	}
	b.Ack.Retain(1)
	r.carry = &event.Batch{Events: b.Events[max:], Ack: b.Ack}
	return &event.Batch{Events: append([]event.Event(nil), b.Events[:max]...), Ack: b.Ack}
}

// deliver writes b until every event is delivered or rejected. Only ctx
// (hard shutdown) stops it early; the events are then abandoned, so their
// sources replay them after a restart.
func (r *sinkRunner) deliver(ctx context.Context, b *event.Batch) {
	status := ack.Delivered
	began := time.Now()
	for attempt := 0; ; attempt++ {
		err := r.sink.Write(ctx, b)
		var rej *component.RejectError
		var part *component.PartialError
		// Per-event outcomes first: a PartialError may wrap a RejectError.
		switch {
		case err == nil:
			r.health.set(StateRunning, nil)
			r.delivered(b)
			b.Ack.Release(status)
			return
		case errors.As(err, &part) && len(part.Outcomes) == len(b.Events):
			retry := r.split(b, part.Outcomes, &status)
			if len(retry.Events) == 0 {
				b.Ack.Release(status)
				return
			}
			b = retry
			r.health.set(StateRunning, nil)
			r.log.Warn("retrying failed events", "events", len(b.Events), "error", err)
		case errors.As(err, &rej):
			// A refused batch is done, but a destination that refuses
			// everything (wrong credentials) must not look healthy.
			r.health.set(StateFailed, err)
			r.rejected.Add(int64(len(b.Events)))
			r.metrics.Rejected.Add(float64(len(b.Events)))
			r.metrics.Errors.Inc()
			r.log.Error("destination rejected events", "events", len(b.Events), "error", err)
			b.Ack.Release(ack.Rejected)
			return
		default:
			if ctx.Err() == nil { // not the hard stop cutting a write short
				r.health.set(StateFailed, err)
			}
			r.metrics.Errors.Inc()
			r.log.Warn("write failed; retrying", "events", len(b.Events), "attempt", attempt+1, "error", err)
		}
		wait := r.wait(attempt, err)
		if r.giveUp > 0 {
			left := r.giveUp - time.Since(began)
			if left <= 0 {
				r.log.Error("giving up on events the destination did not take", "events", len(b.Events), "after", r.giveUp.String(), "error", err)
				r.abandon(b)
				return
			}
			wait = min(wait, left) // a long Retry-After must not outlast the bound
		}
		r.metrics.Retries.Inc()
		if !backoff.Sleep(ctx, wait) {
			r.abandon(b)
			return
		}
	}
}

// abandon gives b up: its sources replay it after a restart. A durable
// buffer keeps it (and counts it with what it holds at the stop); from a
// memory buffer it is lost to this run, counted as undelivered.
func (r *sinkRunner) abandon(b *event.Batch) {
	if !r.durable {
		r.undelivered.Add(int64(len(b.Events)))
	}
	b.Ack.Release(ack.Abandoned)
}

// split counts the delivered and rejected events of a partial failure and
// returns the ones to retry, holding the same token.
func (r *sinkRunner) split(b *event.Batch, outcomes []component.Outcome, status *ack.Status) *event.Batch {
	retry := &event.Batch{Ack: b.Ack}
	ok := &event.Batch{}
	for i, o := range outcomes {
		switch o {
		case component.OK:
			ok.Events = append(ok.Events, b.Events[i])
		case component.Retry:
			retry.Events = append(retry.Events, b.Events[i])
		case component.Reject:
			r.rejected.Add(1)
			r.metrics.Rejected.Inc()
			*status = ack.Rejected
		}
	}
	r.delivered(ok)
	return retry
}

func (r *sinkRunner) delivered(b *event.Batch) {
	r.metrics.EventsOut.Add(float64(len(b.Events)))
	r.metrics.BytesOut.Add(float64(messageBytes(b)))
}

// wait is the pause before retry number attempt: the exponential schedule,
// or longer when the destination asked for it (Retry-After).
func (r *sinkRunner) wait(attempt int, err error) time.Duration {
	d := r.retry.Delay(attempt)
	var ra *component.RetryAfterError
	if errors.As(err, &ra) {
		d = max(d, min(ra.After, component.MaxRetryAfter))
	}
	return d
}
