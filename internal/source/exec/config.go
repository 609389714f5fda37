package exec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/source/linesource"
)

// Restart policies.
const (
	RestartAlways    = "always"
	RestartOnFailure = "on_failure"
	RestartNever     = "never"
)

// Stderr handling modes.
const (
	StderrLog     = "log"
	StderrEmit    = "emit"
	StderrDiscard = "discard"
)

// Config is the exec source's configuration.
type Config struct {
	// Command is the program and its arguments, run without a shell; the
	// program is looked up in sluice's PATH. For shell syntax use
	// [sh, -c, "..."]. Required.
	Command []string `yaml:"command"`
	// Env adds to (or overrides in) the environment the command inherits
	// from sluice. Values are secrets: they never appear in dumps or logs.
	Env map[string]config.Secret `yaml:"env"`
	// WorkingDir is the command's working directory. Default: sluice's.
	WorkingDir string `yaml:"working_dir"`
	// Restart says when the command is started again after it exits:
	// "always", "on_failure" (non-zero exit, signal or failure to start)
	// or "never". Default always.
	Restart string `yaml:"restart"`
	// RestartBackoff is the wait before the first restart; it doubles on
	// each restart up to MaxBackoff, with jitter, and starts over once the
	// command has run for at least MaxBackoff. Default 1s.
	RestartBackoff config.Duration `yaml:"restart_backoff"`
	// MaxBackoff bounds the wait between restarts. Default 30s.
	MaxBackoff config.Duration `yaml:"max_backoff"`
	// StopTimeout is how long the command gets to exit after SIGTERM
	// before SIGKILL, and how long its leftover children may hold its
	// output open after it exited. Default 5s.
	StopTimeout config.Duration `yaml:"stop_timeout"`
	// Stderr says what happens to the command's standard error: "log"
	// writes each line to sluice's log (rate-limited), "emit" makes events
	// of them with the field fd: stderr, "discard" drops it. Default log.
	Stderr string `yaml:"stderr"`
	// Stream is the stream of the events. Default: the base name of the
	// program (Command[0]).
	Stream string `yaml:"stream"`
	// Config holds batch_lines, batch_bytes, flush_interval,
	// max_line_bytes and long_lines.
	linesource.Config `yaml:",inline"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Restart = RestartAlways
	c.RestartBackoff = config.Duration(time.Second)
	c.MaxBackoff = config.Duration(30 * time.Second)
	c.StopTimeout = config.Duration(5 * time.Second)
	c.Stderr = StderrLog
	c.Config.Defaults()
}

// Validate checks the options.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Command) == 0 || c.Command[0] == "" {
		errs = append(errs, errors.New("command is required: [program, args...] (for a shell: [sh, -c, \"...\"])"))
	}
	for k := range c.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			errs = append(errs, fmt.Errorf("env: invalid variable name %q", k))
		}
	}
	switch c.Restart {
	case RestartAlways, RestartOnFailure, RestartNever:
	default:
		errs = append(errs, fmt.Errorf("restart must be always, on_failure or never, got %q", c.Restart))
	}
	switch c.Stderr {
	case StderrLog, StderrEmit, StderrDiscard:
	default:
		errs = append(errs, fmt.Errorf("stderr must be log, emit or discard, got %q", c.Stderr))
	}
	if c.RestartBackoff <= 0 || c.MaxBackoff < c.RestartBackoff {
		errs = append(errs, fmt.Errorf("restart_backoff must be positive and at most max_backoff (%s)", c.MaxBackoff.D()))
	}
	if c.StopTimeout <= 0 {
		errs = append(errs, errors.New("stop_timeout must be positive"))
	}
	return errors.Join(append(errs, c.Config.Validate())...)
}

// stream is the configured stream or the program's base name.
func (c *Config) stream() string {
	if c.Stream != "" {
		return c.Stream
	}
	return filepath.Base(c.Command[0])
}
