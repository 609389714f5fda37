package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/source/linesource"
)

// groupPoll is how often a terminating process group is checked for
// members still alive.
const groupPoll = 10 * time.Millisecond

// killWait bounds the wait for SIGKILLed processes to die. Only a process
// stuck in the kernel (uninterruptible I/O) takes longer.
const killWait = time.Second

// process is one run of the command: its process group and its output
// pipes, read by one pump each.
type process struct {
	cmd    *osexec.Cmd
	pgid   int
	exited chan struct{} // closed when the leader has been waited for
	err    error         // the leader's exit, valid after exited
	pipes  []*os.File    // read ends of stdout and stderr
	pumped chan struct{} // closed when every pump has returned
}

// command builds the Cmd of one run, without its outputs.
func (s *Source) command() *osexec.Cmd {
	cmd := osexec.Command(s.cfg.Command[0], s.cfg.Command[1:]...)
	cmd.Dir = s.cfg.WorkingDir
	if len(s.cfg.Env) > 0 {
		keys := make([]string, 0, len(s.cfg.Env))
		for k := range s.cfg.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		cmd.Env = os.Environ()
		for _, k := range keys {
			// Later entries win over inherited ones.
			cmd.Env = append(cmd.Env, k+"="+s.cfg.Env[k].Reveal())
		}
	}
	// A group of its own, so that stopping it reaches its children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// runOnce runs the command to its end, or until ctx is done, pumping its
// output into events. It returns nil when the command exited with 0.
func (s *Source) runOnce(ctx context.Context, emit component.Emit) error {
	p, err := s.start()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.pump(ctx, p.pipes[0], emit, &s.stdout) })
	if len(p.pipes) > 1 {
		errEmit := emit
		if s.errLog != nil {
			errEmit = s.errLog.emit
		}
		wg.Go(func() { s.pump(ctx, p.pipes[1], errEmit, &s.stderr) })
	}
	go func() {
		wg.Wait()
		close(p.pumped)
	}()
	s.supervise(ctx, p)
	for _, f := range p.pipes {
		f.Close()
	}
	if s.errLog != nil {
		s.errLog.done()
	}
	if p.err != nil {
		return fmt.Errorf("command %s: %w", s.cfg.Command[0], p.err)
	}
	return nil
}

// start starts the command with its outputs on fresh pipes. The pipes'
// write ends go to the command directly (no copying goroutine), and are
// closed here, so a read end sees EOF once the command and every child it
// handed them to are gone.
func (s *Source) start() (*process, error) {
	cmd := s.command()
	if cmd.Err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.cfg.Command[0], cmd.Err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{}), pumped: make(chan struct{})}
	var writers []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			f.Close()
		}
	}
	outputs := 1 // stdout
	if s.cfg.Stderr != StderrDiscard {
		outputs = 2 // and stderr
	}
	for range outputs {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(p.pipes)
			closeAll(writers)
			return nil, fmt.Errorf("creating pipe: %w", err)
		}
		p.pipes, writers = append(p.pipes, r), append(writers, w)
	}
	cmd.Stdout = writers[0]
	if len(writers) > 1 {
		cmd.Stderr = writers[1]
	}
	err := cmd.Start()
	closeAll(writers)
	if err != nil {
		closeAll(p.pipes)
		return nil, fmt.Errorf("starting %s: %w", s.cfg.Command[0], err)
	}
	p.pgid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pump reads one output of the command into events until it ends.
func (s *Source) pump(ctx context.Context, f *os.File, emit component.Emit, o *linesource.Options) {
	in := linesource.Input{R: f, Interrupt: func() { _ = f.SetReadDeadline(time.Unix(1, 0)) }}
	err := linesource.Pump(ctx, in, emit, o)
	if err != nil && ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		s.log.Warn("reading command output", "pipe", f.Name(), "error", err)
	}
}

// supervise waits for the run to end: the command exits and its outputs
// are drained, or ctx is done and the process group is stopped. Either
// way, the command has been waited for and the pumps have returned.
func (s *Source) supervise(ctx context.Context, p *process) {
	stop := s.cfg.StopTimeout.D()
	select {
	case <-p.exited:
		// Drain the pipes; children left holding them get stop_timeout.
		t := time.NewTimer(stop)
		defer t.Stop()
		select {
		case <-p.pumped:
		case <-t.C:
			s.log.Warn("command exited but its children keep its output open; killing them")
			s.kill(p)
		case <-ctx.Done():
			s.terminate(p, stop)
		}
	case <-ctx.Done():
		s.terminate(p, stop)
	}
	<-p.exited
	<-p.pumped
}

// terminate sends SIGTERM to the process group, and SIGKILL to whatever is
// left of it after stop.
func (s *Source) terminate(p *process, stop time.Duration) {
	deadline := time.Now().Add(stop)
	signalGroup(p.pgid, syscall.SIGTERM)
	t := time.NewTimer(stop)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
	}
	for groupAlive(p.pgid) && time.Now().Before(deadline) {
		time.Sleep(groupPoll)
	}
	s.kill(p)
}

// kill sends SIGKILL to the process group, waits a little for the kernel
// to finish them off, and wakes the pumps, whose pipes may be held open by
// processes in another group.
func (s *Source) kill(p *process) {
	if groupAlive(p.pgid) {
		signalGroup(p.pgid, syscall.SIGKILL)
		deadline := time.Now().Add(killWait)
		for groupAlive(p.pgid) && time.Now().Before(deadline) {
			time.Sleep(groupPoll)
		}
	}
	for _, f := range p.pipes {
		_ = f.SetReadDeadline(time.Unix(1, 0))
	}
}

// signalGroup signals every process in the group; a group already gone is
// not an error.
func signalGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// groupAlive reports whether any process of the group still runs. Zombies
// do not count: an orphan whose init does not reap it (sluice as PID 1 in a
// container) stays a member until reaped, but will never exit.
func groupAlive(pgid int) bool {
	if syscall.Kill(-pgid, 0) != nil {
		return false
	}
	live, ok := liveMembers(pgid)
	return live || !ok
}

// liveMembers scans /proc for a process of the group that is not a zombie.
// ok is false when /proc cannot be read.
func liveMembers(pgid int) (live, ok bool) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return false, false
	}
	want := strconv.Itoa(pgid)
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		rest := b[bytes.LastIndexByte(b, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) > 2 && f[2] == want && f[0] != "Z" && f[0] != "X" {
			return true, true
		}
	}
	return false, true
}
