// Package live implements the live sink: a bounded, searchable backlog per
// stream that `sluice tail` and the web UI follow over the api listener.
//
// Each stream is a ring bounded by lines and bytes (ring.go) in a Store
// (store.go); the sink appends every event to its stream's ring and
// acknowledges the batch once it is there, since the ring is the delivery.
// Viewers follow through cursors (a seq per stream) over the rings, so a
// slow viewer only falls behind itself: when the ring has moved past its
// cursor it skips ahead and is told exactly how many records it missed.
// The routes under /api/v1/live/ (http.go, follow.go) are mounted on the
// api listener, behind its TLS and auth, while the sink runs. The backlog
// is saved under the data directory at Close and read back by New
// (spill.go).
package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("live",
		"Keep a bounded backlog per stream for `sluice tail`, the web UI and the live API.", New))
}

// Config configures the live sink.
type Config struct {
	// StreamField names the attribute or field whose value picks an event's
	// stream. Default "stream" (the event's stream: file path, rtail id,
	// syslog app-name, the stream of an HTTP event).
	StreamField string `yaml:"stream_field"`
	// MaxLines is the number of lines kept per stream. Default 10000.
	MaxLines int `yaml:"max_lines"`
	// MaxBytes bounds the bytes kept per stream (message, host, stream and
	// fields of each line). Default 8MiB. A line larger than a quarter of
	// it is cut to fit, and counted in component_errors_total.
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// MaxStreams is the number of streams kept; when a new stream would
	// exceed it, the stream idle the longest is dropped. Default 1000.
	MaxStreams int `yaml:"max_streams"`
	// StreamIdle drops a stream, with its backlog, after this long without
	// events. Default 24h.
	StreamIdle config.Duration `yaml:"stream_idle"`
}

// Defaults sets the defaults.
func (c *Config) Defaults() {
	c.StreamField = event.KeyStream
	c.MaxLines = 10000
	c.MaxBytes = 8 << 20
	c.MaxStreams = 1000
	c.StreamIdle = config.Duration(24 * time.Hour)
}

// Validate checks the bounds.
func (c *Config) Validate() error {
	var errs []error
	if c.StreamField == "" {
		errs = append(errs, errors.New("stream_field: must not be empty"))
	}
	if c.MaxLines < 1 {
		errs = append(errs, fmt.Errorf("max_lines: %d, must be at least 1", c.MaxLines))
	}
	if c.MaxBytes < 4<<10 || c.MaxBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("max_bytes: %d, must be between 4KiB and 1GiB", c.MaxBytes))
	}
	if c.MaxStreams < 1 {
		errs = append(errs, fmt.Errorf("max_streams: %d, must be at least 1", c.MaxStreams))
	}
	if c.StreamIdle.D() <= 0 {
		errs = append(errs, errors.New("stream_idle: must be positive, e.g. 1h"))
	}
	return errors.Join(errs...)
}

// DefaultBatchTimeout makes the pipeline hand lines over within 20ms
// instead of the usual second: appending to the ring is cheap, and viewers
// are waiting for each line.
func (c *Config) DefaultBatchTimeout() time.Duration { return 20 * time.Millisecond }

func (c *Config) limits() Limits {
	return Limits{MaxLines: c.MaxLines, MaxBytes: int(c.MaxBytes), MaxStreams: c.MaxStreams, Idle: c.StreamIdle.D()}
}

// RoutePrefix is where the live API is mounted on the api listener.
const RoutePrefix = "/api/v1/live/"

// errClosed is returned by Write after Close.
var errClosed = errors.New("live sink is closed")

// Sink appends events to the store. Write is called from one goroutine at
// a time; viewers read the store concurrently.
type Sink struct {
	store   *Store
	field   string
	maxLine int // largest record kept
	deps    component.Deps
	now     func() time.Time

	fields  []byte // scratch: the current event's fields as JSON members
	unmount func()

	mu     sync.Mutex
	closed bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// New builds a live sink and mounts its routes on the api listener.
func New(c *Config, deps component.Deps) (component.Sink, error) {
	s := newSink(c, deps, time.Now)
	s.load()
	if deps.HTTP != nil {
		s.unmount = deps.HTTP.Mount(RoutePrefix, s.Handler())
	}
	go s.expireLoop(c.StreamIdle.D())
	return s, nil
}

func newSink(c *Config, deps component.Deps, now func() time.Time) *Sink {
	return &Sink{store: NewStore(c.limits()), field: c.StreamField, maxLine: int(c.MaxBytes) / 4,
		deps: deps, now: now, stop: make(chan struct{}), done: make(chan struct{})}
}

// Store is the sink's backlog.
func (s *Sink) Store() *Store { return s.store }

// Write appends every event of b to its stream's ring.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if len(b.Events) == 0 {
		return nil
	}
	now := s.now().UnixNano()
	for i := range b.Events {
		s.append(&b.Events[i], now)
	}
	s.store.notify()
	return nil
}

// append copies one event into its stream's ring.
func (s *Sink) append(e *event.Event, now int64) {
	name := e.Stream
	if s.field != event.KeyStream {
		if v, ok := e.Get(s.field); ok {
			name = v.Text()
		} else {
			name = ""
		}
	}
	s.fields = appendFields(s.fields[:0], e)
	host, strm, msg, fields := e.Host, e.Stream, e.Message, s.fields
	n := recordSize(host, strm, msg, fields)
	if n > s.maxLine {
		host, strm, msg, fields = s.cut(e, fields)
		n = recordSize(host, strm, msg, fields)
	}
	if len(name) > s.maxLine/8 {
		name = name[:s.maxLine/8]
	}
	st := s.store.stream(name, now)
	st.mu.Lock()
	putRecord(st.r.reserve(n, e.Timestamp.UnixNano()), host, strm, msg, fields)
	st.lastSeen = now
	st.rate.add(now/int64(time.Second), 1)
	st.mu.Unlock()
	if cap(s.fields) > 64<<10 {
		s.fields = nil // do not keep one huge event's buffer
	}
}

// cut shortens an oversized record to maxLine: its fields go first, then
// the message's tail. Host and stream names are short in practice, and
// are cut to an eighth of the line each if they are not.
func (s *Sink) cut(e *event.Event, fields []byte) (host, strm string, msg, _ []byte) {
	s.deps.Metrics.Errors.Inc()
	s.deps.Logger.Warn("line too long for the live backlog: cut", "stream", e.Stream,
		"bytes", len(e.Message)+len(fields), "max_bytes_per_line", s.maxLine)
	host, strm = e.Host[:min(len(e.Host), s.maxLine/8)], e.Stream[:min(len(e.Stream), s.maxLine/8)]
	room := s.maxLine - recordSize(host, strm, nil, nil) - 8
	return host, strm, e.Message[:max(0, min(len(e.Message), room))], nil
}

// expireLoop drops idle streams until Close.
func (s *Sink) expireLoop(idle time.Duration) {
	defer close(s.done)
	t := time.NewTicker(min(max(idle/4, time.Second), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if n := s.store.Expire(s.now()); n > 0 {
				s.deps.Logger.Debug("idle streams dropped", "streams", n)
				s.store.notify()
			}
		}
	}
}

// Close unmounts the routes, stops the expiry loop and saves the backlog
// under the data directory for the next start (spill.go); the backlog is
// kept in memory for viewers still reading it. Close is idempotent.
func (s *Sink) Close(context.Context) error {
	var err error
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.unmount != nil {
			s.unmount()
		}
		close(s.stop)
		<-s.done
		err = s.save()
	})
	return err
}

var _ component.Sink = (*Sink)(nil)
