// Package mtailsink runs mtail programs inside a sluice pipeline: the
// metrics.mtail section becomes a sink of type mtail (ID metrics.mtail)
// fed like any other, whose Write gives each event's message to every
// program as a line. The programs live in the app's mtail.Host, so their
// metrics survive the sink being rebuilt and unchanged programs keep
// theirs when SIGHUP reloads the others.
package mtailsink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/mtail"
	"github.com/sluice-log/sluice/internal/mtail/host"
)

// Type is the sink type metrics.mtail runs as.
const Type = "mtail"

func init() {
	component.MustRegister(component.SinkSpec(Type,
		"mtail programs fed by the pipeline (written under metrics.mtail, not sinks; see mtail.md).", New))
}

// Config is the metrics.mtail section. Besides these keys it takes
// `inputs` (required), `buffer` and `batch`, as a sink does.
type Config struct {
	// Programs is a directory whose *.mtail files (dotfiles skipped) are
	// the programs, in name order, or one program file. Required.
	Programs string `yaml:"programs"`
	// EmitProgLabel adds the `prog` label (the program's file name) to the
	// programs' metrics, as mtail's --emit_prog_label. Default true.
	EmitProgLabel bool `yaml:"emit_prog_label"`
	// EmitMetricTimestamp exports each value's update time as the sample
	// timestamp (mtail's --emit_metric_timestamp). Default false.
	EmitMetricTimestamp bool `yaml:"emit_metric_timestamp"`
	// OverrideTimezone is the zone strptime assumes when a layout has
	// none, an IANA name such as Europe/Paris (mtail's
	// --override_timezone). Default UTC.
	OverrideTimezone string `yaml:"override_timezone"`
	// SyslogUseCurrentYear gives yearless strptime results the current
	// year (mtail's --syslog_use_current_year). Default true.
	SyslogUseCurrentYear bool `yaml:"syslog_use_current_year"`
	// LogRuntimeErrors logs programs' runtime errors, at most one per
	// program per second; all are counted (mtail's
	// --vm_logs_runtime_errors). Default true.
	LogRuntimeErrors bool `yaml:"log_runtime_errors"`
	// FilenameField is the event field getfilename() returns when the
	// event has it; otherwise getfilename() returns the event's stream
	// (a file source's path, a syslog app-name). Default file.
	FilenameField string `yaml:"filename_field"`

	loc *time.Location
}

// Defaults sets mtail's defaults.
func (c *Config) Defaults() {
	c.EmitProgLabel, c.SyslogUseCurrentYear, c.LogRuntimeErrors = true, true, true
	c.FilenameField = "file"
}

// Validate checks the settings and compiles the programs, so `sluice
// validate` and start-up report a program's errors with file:line:col.
func (c *Config) Validate() error {
	if c.Programs == "" {
		return errors.New("programs: required: a directory of *.mtail files, or one file")
	}
	c.loc = time.UTC
	if c.OverrideTimezone != "" {
		loc, err := time.LoadLocation(c.OverrideTimezone)
		if err != nil {
			return fmt.Errorf("override_timezone: %w", err)
		}
		c.loc = loc
	}
	if _, err := mtail.LoadDir(c.Programs, c.options(nil)); err != nil {
		return fmt.Errorf("programs: %w", err)
	}
	return nil
}

func (c *Config) options(d *component.Deps) mtail.Options {
	o := mtail.Options{Location: c.loc, SyslogUseCurrentYear: c.SyslogUseCurrentYear, LogRuntimeErrors: c.LogRuntimeErrors}
	if d != nil {
		o.Logger = d.Logger
	}
	return o
}

// Sink feeds its set of programs.
type Sink struct {
	set   *host.Set
	field string
	batch *event.Batch // the batch being fed; Write is not concurrent
	once  sync.Once
}

// New loads the programs into the host's set for this ID, keeping those
// that did not change since the set was last loaded.
func New(c *Config, d component.Deps) (component.Sink, error) {
	h, ok := d.MtailHost.(*host.Host)
	if !ok {
		return nil, errors.New("mtail programs need the app's mtail host (not available here)")
	}
	set, err := h.Apply(d.ID, c.SetConfig(d))
	if err != nil {
		d.Logger.Error("loading mtail programs: the previous version of each broken program keeps running", "error", err)
	}
	set.Acquire()
	return &Sink{set: set, field: c.FilenameField}, nil
}

// SetConfig is what the host loads the programs from.
func (c *Config) SetConfig(d component.Deps) host.SetConfig {
	return host.SetConfig{Dir: c.Programs, Options: c.options(&d), EmitProgLabel: c.EmitProgLabel,
		EmitTimestamp: c.EmitMetricTimestamp}
}

// Write gives every event's message to the programs and acknowledges the
// batch: a line a program cannot handle is a runtime error, counted in
// sluice_mtail_runtime_errors_total, never a failed write.
func (s *Sink) Write(_ context.Context, b *event.Batch) error {
	s.batch = b
	s.set.Feed(len(b.Events), s.line)
	s.batch = nil
	return nil
}

// line is event i's message and the name getfilename() returns for it.
func (s *Sink) line(i int) ([]byte, string) {
	e := &s.batch.Events[i]
	name := e.Stream
	if v, ok := e.Fields.Get(s.field); ok && v.Kind() == event.KindString {
		name = v.Str()
	}
	return e.Message, name
}

// Close waits until the programs have run over every line written.
func (s *Sink) Close(context.Context) error {
	s.once.Do(s.set.Release)
	return nil
}

var _ component.Sink = (*Sink)(nil)
