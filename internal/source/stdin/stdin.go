// Package stdin implements the stdin source: every line of the process's
// standard input becomes an event, until the input closes.
//
// It is the source for `cat app.log | sluice run -c cfg.yaml`. At the end of
// the input it emits the partial last line and returns, and sluice exits once
// everything read has been delivered. Standard input cannot be replayed, so
// nothing waits for the ack token each batch carries.
package stdin

import (
	"context"
	"errors"
	"io"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/source/linesource"
)

func init() {
	component.MustRegister(component.SourceSpec("stdin",
		"read lines from standard input until it closes", New))
}

// Config is the stdin source's configuration.
type Config struct {
	// Stream is the stream of the events. Default "stdin".
	Stream string `yaml:"stream"`
	// Config holds batch_lines, batch_bytes, flush_interval,
	// max_line_bytes and long_lines.
	linesource.Config `yaml:",inline"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Stream = "stdin"
	c.Config.Defaults()
}

// Validate checks the options.
func (c *Config) Validate() error {
	if c.Stream == "" {
		return errors.New("stream must not be empty")
	}
	return c.Config.Validate()
}

// Source reads lines from standard input, or from the reader given to
// NewFromReader. Run it once: the input is consumed.
type Source struct {
	opts linesource.Options
	r    io.Reader // nil: the process's standard input
}

// New builds a stdin source reading the process's standard input.
func New(cfg *Config, deps component.Deps) (component.Source, error) {
	return NewFromReader(cfg, deps, nil)
}

// NewFromReader builds a stdin source that reads r instead of the process's
// standard input (r == nil). If r is an io.Closer, Run closes it before it
// returns, which also stops a Read blocked in it on cancellation.
func NewFromReader(cfg *Config, deps component.Deps, r io.Reader) (*Source, error) {
	return &Source{opts: cfg.Options(deps, cfg.Stream), r: r}, nil
}

// Run reads lines until the input ends (returning nil), ctx is cancelled
// (returning nil) or reading fails.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	in := s.input()
	err := linesource.Pump(ctx, in, emit, &s.opts)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// input returns what Pump reads: the given reader, or file descriptor 0
// through an fdReader, which notices cancellation within a poll interval.
func (s *Source) input() linesource.Input {
	if s.r == nil {
		fr := newFDReader(0)
		return linesource.Input{R: fr, Interrupt: fr.Stop}
	}
	in := linesource.Input{R: s.r}
	if c, ok := s.r.(io.Closer); ok {
		in.Interrupt = func() { _ = c.Close() }
	}
	return in
}

var _ component.Source = (*Source)(nil)
