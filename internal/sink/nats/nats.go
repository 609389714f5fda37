// Package nats implements the nats sink: events published to NATS
// JetStream, as sluice's json encoding, one message per event (or up to
// events_per_message consecutive events of one subject, newline-separated).
//
// A batch is published asynchronously with a window of outstanding
// PubAcks (max_pending), and Write returns only once every PubAck of the
// batch arrived: a PubAck means JetStream stored the event, so upstream is
// acknowledged only for what is durably in the stream. A publish that fails
// or whose PubAck times out is retried (a component.PartialError names
// exactly those events); each message carries a Nats-Msg-Id derived from
// the event's encoding, the same on every retry, so JetStream drops a copy
// it already stored within the stream's duplicate window.
package nats

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn"
	"github.com/sluice-log/sluice/internal/template"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("nats",
		"Publish events to NATS JetStream, acknowledged upstream once JetStream stored them.", New))
}

// Sink publishes batches to JetStream. Write is never called concurrently,
// so its buffers are reused from one batch to the next.
type Sink struct {
	cfg     *Config
	nc      *nats.Conn
	js      jetstream.JetStream
	subject *template.Template
	static  string // the subject when the template has no field
	isStat  bool
	ready   bool // the stream exists (or none is managed)

	buf      []byte // encoded events of the batch, back to back
	ends     []int
	subj     []byte // scratch for rendering the subject
	lastSubj string // last rendered subject, reused while it repeats
	futs     []jetstream.PubAckFuture
	outcomes []component.Outcome
	first    []int // events first[g] to last[g]-1 are message futs[g]
	last     []int
	resolved int   // futs[:resolved] have their outcome
	firstErr error // the first failure of the batch

	closeOnce sync.Once
}

// New connects to the server (in the background if it is down) and builds
// the sink.
func New(cfg *Config, d component.Deps) (component.Sink, error) {
	return newSink(cfg, d.ID)
}

func newSink(cfg *Config, id string) (*Sink, error) {
	nc, err := cfg.Conn.Connect("sluice sink " + id)
	if err != nil {
		return nil, fmt.Errorf("creating nats sink: %w", err)
	}
	// The sink keeps its own window (see Write); nats.go's is set above
	// it so that its stall never triggers.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*cfg.MaxPending),
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout.D()))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("creating nats sink: %w", err)
	}
	s := &Sink{cfg: cfg, nc: nc, js: js, subject: cfg.subject, ready: cfg.Stream == ""}
	s.static, s.isStat = cfg.subject.Static()
	return s, nil
}

// ensureStream creates the configured stream unless it exists.
func (s *Sink) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.AckTimeout.D())
	defer cancel()
	if err := natsconn.EnsureStream(ctx, s.js, s.cfg.Create.StreamConfig(s.cfg.Stream, s.cfg.Subjects)); err != nil {
		return err
	}
	s.ready = true
	return nil
}

// Write publishes every event of b and waits for their PubAcks.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	n := len(b.Events)
	if n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.ready {
		if err := s.ensureStream(ctx); err != nil {
			return err
		}
	}
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	for i := range b.Events {
		s.buf = codec.JSON.Encode(s.buf, &b.Events[i])
		s.buf = append(s.buf, '\n')
		s.ends = append(s.ends, len(s.buf))
	}
	s.futs, s.first, s.last = s.futs[:0], s.first[:0], s.last[:0]
	s.outcomes = s.outcomes[:0]
	for range n {
		s.outcomes = append(s.outcomes, component.Retry) // until acknowledged
	}
	s.resolved, s.firstErr = 0, nil
	for i := 0; i < n; {
		// The window: wait for the oldest PubAck before going past it
		// (rather than nats.go's stall, which fails after 200ms).
		for len(s.futs)-s.resolved >= s.cfg.MaxPending {
			if err := s.resolve(ctx); err != nil {
				return err
			}
		}
		if s.firstErr == nil && ctx.Err() != nil {
			s.firstErr = ctx.Err()
		}
		if s.firstErr != nil {
			break // the rest stays Retry
		}
		subj, err := s.render(&b.Events[i])
		if err != nil {
			s.outcomes[i] = component.Reject // never renderable
			s.firstErr = err
			i++
			continue
		}
		j := i + 1
		for j < n && j-i < s.cfg.EventsPerMessage {
			if next, err := s.render(&b.Events[j]); err != nil || next != subj {
				break
			}
			j++
		}
		from := 0
		if i > 0 {
			from = s.ends[i-1]
		}
		data := s.buf[from : s.ends[j-1]-1 : s.ends[j-1]-1] // without the last newline
		msg := &nats.Msg{Subject: subj, Data: data, Header: nats.Header{jetstream.MsgIDHeader: {msgID(data)}}}
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			// Connection gone: the rest of the batch is not tried now.
			s.firstErr = fmt.Errorf("publishing: %w", err)
			break
		}
		s.futs, s.first, s.last = append(s.futs, f), append(s.first, i), append(s.last, j)
		i = j
	}
	for s.resolved < len(s.futs) {
		if err := s.resolve(ctx); err != nil {
			return err
		}
	}
	return s.result()
}

// resolve waits for the oldest unresolved publish of the batch and
// records the outcome of its events. It fails only when ctx is done: the
// events not acknowledged yet are then resent with the same ids, and no
// copy stored.
func (s *Sink) resolve(ctx context.Context) error {
	g := s.resolved
	var o component.Outcome
	select {
	case <-s.futs[g].Ok():
		o = component.OK
	case err := <-s.futs[g].Err():
		o = classify(err)
		if s.firstErr == nil {
			s.firstErr = fmt.Errorf("publish not acknowledged: %w", err)
		}
	case <-ctx.Done():
		return fmt.Errorf("waiting for PubAcks: %w", ctx.Err())
	}
	for i := s.first[g]; i < s.last[g]; i++ {
		s.outcomes[i] = o
	}
	s.resolved++
	return nil
}

// result is what Write returns once every publish is resolved.
func (s *Sink) result() error {
	ok, retries := 0, 0
	for _, o := range s.outcomes {
		switch o {
		case component.OK:
			ok++
		case component.Retry:
			retries++
		}
	}
	switch {
	case ok == len(s.outcomes):
		return nil
	case retries == len(s.outcomes):
		return fmt.Errorf("%d events not acknowledged by JetStream: %w", retries, s.firstErr)
	}
	return &component.PartialError{Outcomes: append([]component.Outcome(nil), s.outcomes...), Err: s.firstErr}
}

// classify maps a failed publish to an outcome: a message JetStream can
// never take (larger than the stream or server allows) is rejected;
// anything else (timeouts, no responders while the server restarts) is
// retried.
func classify(err error) component.Outcome {
	var api *jetstream.APIError
	if errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
		return component.Reject
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return component.Reject
	}
	return component.Retry
}

// render returns the subject of e, reusing the previous string while it
// repeats so that a run of events to one subject allocates nothing.
func (s *Sink) render(e *event.Event) (string, error) {
	if s.isStat {
		return s.static, nil
	}
	var err error
	s.subj, err = s.subject.Render(s.subj[:0], e)
	if err != nil {
		return "", fmt.Errorf("rendering subject: %w", err)
	}
	if len(s.subj) == 0 {
		return "", errors.New("rendering subject: empty")
	}
	if string(s.subj) != s.lastSubj {
		s.lastSubj = string(s.subj)
	}
	return s.lastSubj, nil
}

// msgID is the Nats-Msg-Id of an encoded event: 128 bits of two xxhash
// sums over the encoding (timestamp, host, stream, message and fields), so
// the same event resent has the same id. Two events equal in all of that
// within the duplicate window are stored once.
func msgID(data []byte) string {
	var raw [16]byte
	var out [32]byte
	h1 := xxhash.Sum64(data)
	var d xxhash.Digest
	d.Reset()
	_, _ = d.Write([]byte{0x5a, 0x17, 0xce})
	_, _ = d.Write(data)
	h2 := d.Sum64()
	for i := range 8 {
		raw[i] = byte(h1 >> (8 * i))
		raw[8+i] = byte(h2 >> (8 * i))
	}
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// Close closes the connection. Write has waited for every PubAck, so
// nothing is lost. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(func() {
		_ = s.nc.FlushTimeout(time.Second)
		s.nc.Close()
	})
	return nil
}

var _ component.Sink = (*Sink)(nil)
