// Package nats implements the nats source: a durable pull consumer on a
// NATS JetStream stream, whose messages are events in sluice's json
// encoding (as the nats sink publishes them).
//
// Messages are fetched in batches; each batch becomes one batch of events
// whose ack token acknowledges its messages to JetStream only once sluice
// delivered them end to end (see acker). What is not acknowledged within
// ack_wait (a crashed or stopped instance) JetStream delivers again, to
// any instance sharing the durable consumer: delivery is at least once. A
// message that is not a sluice event is counted and terminated (Term), so
// it is never delivered again.
package nats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn"
	"github.com/sluice-log/sluice/internal/telemetry"
)

func init() {
	component.MustRegister(component.SourceSpec[Config]("nats",
		"Consume events from a NATS JetStream stream through a durable pull consumer shared by every instance.", New))
}

// Source consumes a JetStream stream.
type Source struct {
	cfg     *Config
	id      string
	log     *slog.Logger
	bad     prometheus.Counter
	errs    prometheus.Counter
	retries prometheus.Counter
}

// New builds a nats source from a validated config; it connects in Run.
func New(cfg *Config, d component.Deps) (component.Source, error) {
	m := d.Metrics
	if m == nil {
		m = telemetry.Discard("source", "nats", d.ID)
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, id: d.ID, log: log, errs: m.Errors,
		bad: m.Counter("nats_bad_messages_total",
			"Messages that are not sluice events, terminated (never delivered again).", nil),
		retries: m.Counter("nats_redelivered_total",
			"Messages JetStream delivered more than once (not acknowledged in time, or nak'd at shutdown).", nil),
	}, nil
}

// Run connects, makes sure of the stream and the durable consumer, and
// fetches until ctx is done; then it waits (at most shutdown_timeout) for
// the acknowledgement of what it emitted.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	nc, err := s.cfg.Conn.Connect("sluice source " + s.id)
	if err != nil {
		return err
	}
	a := &acker{}
	defer func() {
		if !a.wait(s.cfg.ShutdownTimeout.D()) {
			s.log.Warn("stopping with batches not acknowledged; JetStream delivers them again after ack_wait")
		}
		_ = nc.FlushTimeout(time.Second)
		nc.Close()
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("nats source: %w", err)
	}
	bo := &backoff.Exponential{Base: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: true}
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			if cons, err = s.consumer(ctx, js); err != nil {
				s.errs.Inc()
				s.log.Warn("setting up the consumer", "error", err)
				if !backoff.Sleep(ctx, bo.Next()) {
					return nil
				}
				continue
			}
			bo.Reset()
		}
		if err := s.fetch(ctx, cons, a, emit); err != nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
				errors.Is(err, jetstream.ErrStreamNotFound) {
				cons = nil
			}
			s.log.Debug("fetching", "error", err)
			if !backoff.Sleep(ctx, bo.Next()) {
				return nil
			}
			continue
		}
		bo.Reset()
	}
	return nil
}

// consumer creates the stream if asked and the durable consumer if it
// does not exist (or updates it to this config).
func (s *Source) consumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if s.cfg.CreateStream {
		if err := natsconn.EnsureStream(ctx, js, s.cfg.Create.StreamConfig(s.cfg.Stream, s.cfg.Subjects)); err != nil {
			return nil, err
		}
	}
	cc := jetstream.ConsumerConfig{Durable: s.cfg.Durable, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: s.cfg.AckWait.D(), MaxDeliver: s.cfg.MaxDeliver, MaxAckPending: s.cfg.MaxAckPending,
		MaxRequestBatch: 0}
	switch len(s.cfg.Subjects) {
	case 0:
	case 1:
		cc.FilterSubject = s.cfg.Subjects[0]
	default:
		cc.FilterSubjects = s.cfg.Subjects
	}
	c, err := js.CreateOrUpdateConsumer(ctx, s.cfg.Stream, cc)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on stream %s: %w", s.cfg.Durable, s.cfg.Stream, err)
	}
	return c, nil
}

// fetch fetches one batch and emits its events. A fetch that found
// nothing is not an error.
func (s *Source) fetch(ctx context.Context, cons jetstream.Consumer, a *acker, emit component.Emit) error {
	mb, err := cons.Fetch(s.cfg.BatchSize, jetstream.FetchMaxWait(s.cfg.MaxWait.D()))
	if err != nil {
		return err
	}
	var msgs []jetstream.Msg
	for m := range mb.Messages() {
		msgs = append(msgs, m)
	}
	if err := mb.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && len(msgs) == 0 {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	if ctx.Err() != nil {
		for _, m := range msgs {
			_ = m.Nak() // fetched while stopping: for the next taker at once
		}
		return nil
	}
	events := make([]event.Event, 0, len(msgs))
	good := msgs[:0]
	now := time.Now()
	for _, m := range msgs {
		if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
			s.retries.Inc()
		}
		var ok bool
		if events, ok = s.decodeMsg(m, events, now); ok {
			good = append(good, m)
		}
	}
	n := len(events)
	if n == 0 {
		return nil
	}
	p := a.add(good)
	b := &event.Batch{Events: events, Ack: ack.New(func(st ack.Status) { a.finish(p, st) })}
	_ = emit(ctx, b) // on error the pipeline releases the token as abandoned
	return nil
}

// decodeMsg appends the events of m to events: one, or several
// newline-separated (a sink with events_per_message). A line that is not a
// sluice event is counted and skipped; a message with no good line is
// terminated (Term), never delivered again, and reported not ok.
func (s *Source) decodeMsg(m jetstream.Msg, events []event.Event, now time.Time) ([]event.Event, bool) {
	data := m.Data()
	before := len(events)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		var e event.Event
		if err := decode(line, &e, now); err != nil {
			s.bad.Inc()
			s.errs.Inc()
			s.log.Warn("skipping a message line that is not a sluice event", "subject", m.Subject(), "error", err)
			continue
		}
		events = append(events, e)
	}
	if len(events) == before {
		_ = m.TermWithReason("not a sluice event")
		return events, false
	}
	return events, true
}

var _ component.Source = (*Source)(nil)
