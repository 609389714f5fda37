// Package mtail runs programs written in mtail's language. A program is
// lexed, parsed (consts and decorators are expanded by the parser),
// checked (names, capture groups and types resolved) and compiled into a
// tree of typed closures; Process runs it over one log line with a reused
// frame, so a line costs no allocation unless the program creates a label
// set or a string. A program owns its metrics; everything a program holds
// is guarded by its lock, so lines and scrapes may come from any goroutine.
package mtail

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options are what a program's behaviour depends on besides its text.
type Options struct {
	// Location is the zone strptime assumes when a layout has none (UTC
	// when nil; mtail's --override_timezone).
	Location *time.Location
	// SyslogUseCurrentYear gives yearless strptime results the current
	// year (mtail's --syslog_use_current_year, on by default there).
	SyslogUseCurrentYear bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives runtime errors when LogRuntimeErrors is set, at most
	// one per program per second (others are only counted).
	Logger           *slog.Logger
	LogRuntimeErrors bool
}

// Program is one compiled mtail program with its metrics.
type Program struct {
	// Name is the file's base name, the `prog` label.
	Name     string
	opts     Options
	metrics  []*metric
	patterns []*pattern
	top      []int // patterns matched ahead, in parallel, by the Feeder
	run      action
	mu       sync.Mutex
	frame    frame
	errors   atomic.Uint64
	lines    atomic.Uint64
	lastLog  atomic.Int64
}

// Compile compiles one program; name is its file's base name.
func Compile(name, src string, opts Options) (*Program, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ast, err := parse(name, src)
	if err != nil {
		return nil, err
	}
	ck := &checker{file: name, byName: map[string]*metric{}, used: map[*metric]bool{},
		decls: map[*metric]*declStmt{}, lineIDs: map[string]int{}}
	ck.push()
	if err := ck.stmts(ast); err != nil {
		return nil, err
	}
	for _, m := range ck.metrics {
		d := ck.decls[m]
		if !ck.used[m] {
			return nil, ck.errorf(d.pos, "declaration of metric `%s' here is never used", d.name)
		}
		m.Program, m.Source = name, name+":"+d.srcRange
		m.reset()
	}
	inferMetricTypes(ck.assigns)
	for _, pt := range ck.patterns {
		pt.dropUnusedGroups()
	}
	p := &Program{Name: name, opts: opts, metrics: ck.metrics, patterns: ck.patterns, top: ck.top}
	c := &compiler{prog: p}
	p.run = c.block(ast)
	if c.err != nil {
		return nil, c.err
	}
	n := len(p.patterns)
	p.frame = frame{prog: p, seen: make([]uint64, n), ok: make([]bool, n), subj: make([]string, n),
		caps: make([][]int, n), matched: make([]bool, c.slots)}
	return p, nil
}

// Process runs the program over one line (without its newline) read from
// filename. The line is not retained. A runtime error aborts the rest of
// the run for this line, is counted, and is returned.
func (p *Program) Process(line, filename string) error {
	return p.process(line, filename, nil)
}

// process runs the program; pre, when set, holds the results of the
// top-level patterns on this line, matched ahead by prematch.
func (p *Program) process(line, filename string, pre []match) error {
	p.mu.Lock()
	f := &p.frame
	f.seq++
	f.line, f.filename = line, filename
	for i, m := range pre {
		id := p.top[i]
		f.seen[id], f.ok[id], f.caps[id], f.subj[id] = f.seq, m.ok, m.caps, line
	}
	f.hasTS, f.hasNow, f.stop, f.err = false, false, false, nil
	p.run(f)
	err := f.err
	f.line = ""
	clear(f.subj)
	p.mu.Unlock()
	p.lines.Add(1)
	if err != nil {
		p.runtimeError(err)
		return err
	}
	return nil
}

func (p *Program) runtimeError(err *RuntimeError) {
	p.errors.Add(1)
	if !p.opts.LogRuntimeErrors {
		return
	}
	now := time.Now().UnixNano()
	last := p.lastLog.Load()
	if now-last < int64(time.Second) || !p.lastLog.CompareAndSwap(last, now) {
		return
	}
	p.opts.Logger.Warn("mtail program runtime error (further ones within a second are only counted)",
		"prog", p.Name, "error", err.Error(), "errors_total", p.errors.Load())
}

// RuntimeErrors is how many lines this program aborted with a runtime error.
func (p *Program) RuntimeErrors() uint64 { return p.errors.Load() }

// Lines is how many lines this program has run over.
func (p *Program) Lines() uint64 { return p.lines.Load() }

// Expire runs the periodic metric GC: `del ... after` and `limit`.
func (p *Program) Expire(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.metrics {
		m.expire(now)
	}
}

func (p *Program) String() string { return fmt.Sprintf("mtail program %s", p.Name) }
