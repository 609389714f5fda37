// Package exec implements the exec source: it runs a command and turns each
// line of its standard output into an event, restarting the command as its
// restart policy says.
//
// It is the way to read what only a program can produce, e.g.
// `journalctl -f -o json` or `kubectl logs -f`. The command runs without a
// shell in a process group of its own; on shutdown the whole group gets
// SIGTERM, then SIGKILL after stop_timeout, and the command is always
// waited for, so neither zombies nor orphans are left. Standard error is
// logged (rate-limited), emitted or discarded. A command's output cannot be
// replayed, so nothing waits for the ack token each batch carries.
package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/source/linesource"
	"github.com/sluice-log/sluice/internal/telemetry"
)

func init() {
	component.MustRegister(component.SourceSpec("exec",
		"run a command and read the lines of its output, restarting it on exit", New))
}

// Source runs one command, again and again as the restart policy says.
// Run it once at a time.
//
// Start checks that the program exists and is executable (looked up in
// sluice's PATH, or relative to working_dir when it names a relative
// path), so a missing program fails start-up; it acquires nothing, so Run
// does not need it. A program missing when Run starts it (removed since, or
// Start not called) is an exit like any other, "start_failed", and the
// restart policy applies. Run with its context already done returns at
// once.
type Source struct {
	cfg     *Config
	once    bool
	log     *slog.Logger
	metrics *telemetry.Component
	// stdout and stderr are the line options of the two outputs; stderr
	// is used with stderr: emit or log.
	stdout, stderr linesource.Options
	errLog         *stderrLog
	restarts       prometheus.Counter
}

// New builds an exec source from a validated config.
func New(cfg *Config, deps component.Deps) (component.Source, error) {
	s := &Source{cfg: cfg, once: deps.Once, log: deps.Logger, metrics: deps.Metrics,
		stdout:   cfg.Options(deps, cfg.stream()),
		restarts: deps.Metrics.Counter("exec_restarts_total", "Times the exec source started its command again after it exited.", nil)}
	s.stderr = s.stdout
	s.stderr.Fields = event.Fields{{Key: "fd", Value: event.String("stderr")}}
	if cfg.Stderr == StderrLog {
		// Logged lines are not events: count them nowhere.
		s.stderr.Metrics = telemetry.Discard("source", "exec", deps.ID)
		s.errLog = newStderrLog(deps.Logger)
	}
	return s, nil
}

// Start implements component.Starter: it checks the program exists.
func (s *Source) Start(context.Context) error {
	name := s.cfg.Command[0]
	path := name
	if strings.Contains(name, "/") && !filepath.IsAbs(name) && s.cfg.WorkingDir != "" {
		path = filepath.Join(s.cfg.WorkingDir, name) // as os/exec resolves it
	}
	if _, err := osexec.LookPath(path); err != nil {
		var ee *osexec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return fmt.Errorf("command %q: %w", name, err)
	}
	return nil
}

// Run runs the command until ctx is cancelled, or until it exits and the
// restart policy (or once mode) says not to start it again. It returns nil
// then if the last run succeeded, and the run's error otherwise.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	if ctx.Err() != nil {
		return nil
	}
	bo := &backoff.Exponential{Base: s.cfg.RestartBackoff.D(), Max: s.cfg.MaxBackoff.D(), Jitter: true}
	for {
		began := time.Now()
		err := s.runOnce(ctx, emit)
		if ctx.Err() != nil {
			return nil
		}
		s.recordExit(err)
		if !s.restart(err) {
			return err
		}
		if time.Since(began) >= bo.Max {
			bo.Reset()
		}
		wait := bo.Next()
		s.log.Info("restarting command", "in", wait)
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
		s.restarts.Inc()
	}
}

// restart applies the restart policy to the result of a run.
func (s *Source) restart(err error) bool {
	switch {
	case s.once:
		return false
	case s.cfg.Restart == RestartAlways:
		return true
	case s.cfg.Restart == RestartOnFailure:
		return err != nil
	}
	return false
}

// recordExit logs and counts how a run ended.
func (s *Source) recordExit(err error) {
	status := exitStatus(err)
	s.metrics.Counter("exec_exits_total", "Exits of the exec source's command, by exit code or signal.",
		[]string{"status"}, status).Inc()
	if err != nil {
		s.metrics.Errors.Inc()
		s.log.Warn("command failed", "command", s.cfg.Command[0], "status", status, "error", err)
		return
	}
	s.log.Info("command exited", "command", s.cfg.Command[0], "status", status)
}

// exitStatus is "0", the exit code, the signal name, or "start_failed".
func exitStatus(err error) string {
	if err == nil {
		return "0"
	}
	var ee *osexec.ExitError
	if !errors.As(err, &ee) {
		return "start_failed"
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return unix.SignalName(ws.Signal())
	}
	return strconv.Itoa(ee.ExitCode())
}

var (
	_ component.Source  = (*Source)(nil)
	_ component.Starter = (*Source)(nil)
)
