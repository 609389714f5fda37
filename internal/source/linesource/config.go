// Package linesource turns a byte stream into batches of line events, for
// the sources that read an unstructured stream: stdin, exec and fifo.
//
// A Pump reads its input in a goroutine of its own and cuts lines with
// internal/lines. It emits a batch when the batch is full, and at once when
// no more input is immediately available, so an interactive line arrives
// without waiting for a thousand others. The message bytes of a batch are
// copied into one arena owned by that batch, never reused, so nothing is
// allocated per line. These inputs cannot replay, so nothing waits for
// the ack token every batch carries.
package linesource

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/lines"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Long-line modes of Config.LongLines.
const (
	LongLinesSplit    = "split"
	LongLinesTruncate = "truncate"
)

// Config holds the line and batching options shared by the stdin, exec and
// fifo sources. Sources embed it with `yaml:",inline"`, so its keys sit
// next to their own.
type Config struct {
	// BatchLines is the most lines emitted in one batch. Default 1000.
	BatchLines int `yaml:"batch_lines"`
	// BatchBytes is the most message bytes in one batch; a batch is emitted
	// once it holds this much. Default 1MiB.
	BatchBytes config.ByteSize `yaml:"batch_bytes"`
	// FlushInterval is the longest a line waits in a partial batch while
	// input keeps arriving. When input pauses, the batch is emitted at once
	// whatever this says. Default 100ms.
	FlushInterval config.Duration `yaml:"flush_interval"`
	// MaxLineBytes is the longest line, not counting the newline; longer
	// lines are handled as LongLines says and counted in
	// sluice_long_lines_total. Default 256KiB.
	MaxLineBytes config.ByteSize `yaml:"max_line_bytes"`
	// LongLines is what to do with a line longer than MaxLineBytes: "split"
	// emits it as several events of at most MaxLineBytes, "truncate" emits
	// the first MaxLineBytes and drops the rest. Default split.
	LongLines string `yaml:"long_lines"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.BatchLines = 1000
	c.BatchBytes = 1 << 20
	c.FlushInterval = config.Duration(100 * time.Millisecond)
	c.MaxLineBytes = 256 << 10
	c.LongLines = LongLinesSplit
}

// maxLineLimit bounds max_line_bytes: the line reader's buffer grows to it.
const maxLineLimit = 1 << 30

// Validate checks the options.
func (c *Config) Validate() error {
	var errs []error
	if c.BatchLines < 1 {
		errs = append(errs, fmt.Errorf("batch_lines must be at least 1, got %d", c.BatchLines))
	}
	if c.BatchBytes < 1 {
		errs = append(errs, fmt.Errorf("batch_bytes must be at least 1 byte, got %d", c.BatchBytes))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, errors.New("flush_interval must be positive"))
	}
	if c.MaxLineBytes < 1 || c.MaxLineBytes > maxLineLimit {
		errs = append(errs, fmt.Errorf("max_line_bytes must be between 1 and 1GiB, got %s", c.MaxLineBytes))
	}
	if c.LongLines != LongLinesSplit && c.LongLines != LongLinesTruncate {
		errs = append(errs, fmt.Errorf("long_lines must be %q or %q, got %q", LongLinesSplit, LongLinesTruncate, c.LongLines))
	}
	return errors.Join(errs...)
}

// Options is the run-time form of Config plus what a source adds: the
// stream and host of its events and where to count.
type Options struct {
	// Stream and Host are set on every event.
	Stream, Host string
	// Fields, if set, are copied into every event.
	Fields event.Fields
	// BatchLines, BatchBytes and FlushInterval bound a batch.
	BatchLines, BatchBytes int
	FlushInterval          time.Duration
	// MaxLineBytes and Mode say how long lines are cut.
	MaxLineBytes int
	Mode         lines.Mode
	// Metrics counts the events and bytes read.
	Metrics *telemetry.Component
	// LongLines counts lines longer than MaxLineBytes.
	LongLines prometheus.Counter
}

// Options returns the run-time options for a source with the given deps and
// stream, with Host set to this machine's name.
func (c *Config) Options(deps component.Deps, stream string) Options {
	o := Options{
		Stream:        stream,
		Host:          Hostname(),
		BatchLines:    c.BatchLines,
		BatchBytes:    int(c.BatchBytes),
		FlushInterval: c.FlushInterval.D(),
		MaxLineBytes:  int(c.MaxLineBytes),
		Mode:          lines.Split,
		Metrics:       deps.Metrics,
		LongLines: deps.Metrics.Counter("long_lines_total",
			"Lines longer than max_line_bytes, split or truncated.", nil),
	}
	if c.LongLines == LongLinesTruncate {
		o.Mode = lines.Truncate
	}
	return o
}

// Hostname returns os.Hostname, or "" when it is unknown.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}
