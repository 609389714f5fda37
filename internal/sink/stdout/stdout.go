// Package stdout implements the stdout sink: every event, encoded and
// followed by a newline, on sluice's standard output.
//
// Output goes through a buffer that is flushed at the end of each Write, so
// a batch costs one or a few write(2) calls and Write returns only after its
// bytes left the process. A failed write discards what was buffered and
// reports the error, and the pipeline retries the whole batch, so a reader
// may see some lines twice but never misses one.
package stdout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("stdout", "Write events to standard output.", New))
}

// Config configures the stdout sink.
type Config struct {
	// Encoding of each line: json (default), text, logfmt, or any other
	// registered encoding (see docs/encodings.md).
	Encoding string `yaml:"encoding"`

	// enc is the encoder Validate looked up, for the constructor.
	enc codec.Encoder
}

// Defaults sets the encoding to json.
func (c *Config) Defaults() { c.Encoding = "json" }

// Validate checks that the encoding exists and keeps its encoder.
func (c *Config) Validate() error {
	enc, err := codec.Lookup(c.Encoding)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	c.enc = enc
	return nil
}

// bufferSize is the size of the output buffer; larger batches flush as
// they go.
const bufferSize = 64 << 10

// errClosed is returned by Write after Close.
var errClosed = errors.New("stdout sink is closed")

// Sink writes encoded events to an io.Writer, os.Stdout in production.
type Sink struct {
	enc  codec.Encoder
	out  io.Writer
	w    *bufio.Writer
	line []byte

	mu     sync.Mutex
	closed bool
}

// New creates a stdout sink from a validated config.
func New(cfg *Config, _ component.Deps) (component.Sink, error) {
	return newSink(cfg, os.Stdout), nil
}

func newSink(cfg *Config, out io.Writer) *Sink {
	return &Sink{enc: cfg.enc, out: out, w: bufio.NewWriterSize(out, bufferSize)}
}

// Write encodes every event of b as one line and flushes.
func (s *Sink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	for i := range b.Events {
		s.line = s.enc.Encode(s.line[:0], &b.Events[i])
		s.line = append(s.line, '\n')
		if _, err := s.w.Write(s.line); err != nil {
			return s.fail(err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return s.fail(err)
	}
	if cap(s.line) > bufferSize {
		s.line = nil // do not keep one huge event's buffer forever
	}
	return nil
}

// fail resets the writer, whose errors are sticky, so the retry of the
// batch starts clean.
func (s *Sink) fail(err error) error {
	s.w.Reset(s.out)
	return fmt.Errorf("writing to stdout: %w", err)
}

// Close marks the sink closed. Every Write already flushed, and standard
// output itself stays open for sluice's other users. Close is idempotent.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

var _ component.Sink = (*Sink)(nil)
