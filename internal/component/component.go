// Package component defines what a source, transform and sink is, and the
// registry through which each implementation makes itself known.
//
// The core interfaces are deliberately small: a Source runs and emits
// batches, a Transform processes one batch at a time, a Sink writes a batch
// and reports per-event outcomes through the errors in outcome.go. Retrying,
// batching, buffering and acknowledgement are the pipeline's job, so every
// implementation gets them the same way. Optional behaviour (named outputs,
// flushing on reload) is discovered by type assertion.
package component

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Kind says which role a component plays in the graph.
type Kind string

// The three kinds.
const (
	KindSource    Kind = "source"
	KindTransform Kind = "transform"
	KindSink      Kind = "sink"
)

// Plural is the config section name of a kind ("sources").
func (k Kind) Plural() string { return string(k) + "s" }

// Emit passes a batch downstream. It blocks while downstream queues are full
// (backpressure) and returns an error only when ctx is done. Ownership of the
// batch, including the holder count of its ack token, passes to Emit.
type Emit func(ctx context.Context, b *event.Batch) error

// AckOnEmit is how a source with `acknowledgements: false` is fed: its
// batch's token is released as soon as emit has taken the batch (Abandoned
// if it could not), and the events travel on without one. The source then
// commits and answers at once, with the same code that otherwise waits for
// delivery.
func AckOnEmit(emit Emit) Emit {
	return func(ctx context.Context, b *event.Batch) error {
		tok := b.Ack
		b.Ack = nil
		if err := emit(ctx, b); err != nil {
			tok.Release(ack.Abandoned)
			return err
		}
		tok.Release(ack.Delivered)
		return nil
	}
}

// Source produces events until ctx is cancelled or its input ends.
// Run returns nil on a clean end (EOF of a one-shot input, cancellation);
// it waits for acknowledgement of what it emitted before returning when it
// keeps checkpoints, so a restart neither loses nor repeats events.
type Source interface {
	Run(ctx context.Context, emit Emit) error
}

// Output passes a batch to one named output of a transform ("" is the
// default output). Same contract as Emit.
type Output func(ctx context.Context, output string, b *event.Batch) error

// Transform processes one batch. It may modify the batch in place and pass it
// on, drop events from it, split it, or emit nothing; the pipeline keeps the
// ack token correct in every case. Process is called from one goroutine.
type Transform interface {
	Process(ctx context.Context, b *event.Batch, out Output) error
}

// Sink delivers batches to a destination. Write returns nil when every event
// is durably taken; otherwise see Reject, Partial and ErrNotConnected.
// Write is never called concurrently on one sink. Close flushes and releases
// resources; it is called once.
type Sink interface {
	Write(ctx context.Context, b *event.Batch) error
	Close(ctx context.Context) error
}

// ReadOnly is implemented by sinks that never change the events of a batch
// (metrics rules): the pipeline hands every such consumer of an output the
// same events instead of a deep copy each.
type ReadOnly interface{ ReadOnlyEvents() }

// Outputter is implemented by transforms with named outputs (route).
type Outputter interface {
	Outputs() []string
}

// Deps is everything a component may need from its surroundings. Nothing
// else is global.
type Deps struct {
	// ID is the component's name in the config.
	ID string
	// Logger is tagged with the component's ID.
	Logger *slog.Logger
	// DataDir is this component's private directory under data_dir, for
	// checkpoints and buffers. Components that use it create it.
	DataDir string
	// Metrics are the component's standard counters.
	Metrics *telemetry.Component
	// MetricsStore holds the series of log-derived metrics; the pipeline
	// sets it for metrics rules (internal/metrics/rules).
	MetricsStore *store.Store
	// MtailHost keeps the metrics.mtail programs across reloads; the
	// pipeline sets it for the mtail sink (internal/mtail/mtailsink). It
	// is a *host.Host from internal/mtail/host, typed any so that this
	// package does not import the mtail language (whose tests import it).
	MtailHost any
	// Once is set by `sluice run --once`: sources read to the end of their
	// input and return instead of following it.
	Once bool
	// HTTP mounts handlers on the api listener, behind its TLS and auth
	// (the live sink's /api/v1/live/ routes). Nil when there is none.
	HTTP Mounter
}

// Mounter puts a handler on the api listener under a path prefix until
// unmount is called. A later mount of the same prefix hides an earlier one
// until it is unmounted, so a component rebuilt by a reload takes over its
// routes and the one it replaced can close without taking them away.
type Mounter interface {
	Mount(prefix string, h http.Handler) (unmount func())
}

// Starter is implemented by sources that acquire something before they
// run: a listening socket, a directory or checkpoint store under DataDir, a
// program that must exist. The pipeline calls Start once per instance,
// before Run and before sluice reports itself started, so a port taken or
// a directory it cannot write stops start-up with that error (exit 2), and
// a reload whose new source cannot start keeps the previous instance. Start
// must not block on input or emit; ctx bounds Start alone and must not be
// kept. Run then uses what Start acquired, and releases it when it returns;
// if Run is never to run (another source failed to start), the pipeline
// calls it with a context already done, and it must release and return.
type Starter interface {
	Start(ctx context.Context) error
}

// BatchTimeoutDefaulter is implemented by the configs of sinks whose
// writes are cheap and whose readers wait for each line (live), for which
// the usual one-second wait for a fuller batch is only latency: its result
// replaces that default when the config sets no batch.timeout.
type BatchTimeoutDefaulter interface {
	DefaultBatchTimeout() time.Duration
}

// Reopener is implemented by sinks that hold files open; SIGHUP makes them
// reopen, for logrotate's postrotate hook.
type Reopener interface {
	Reopen()
}
