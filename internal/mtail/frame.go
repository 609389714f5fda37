package mtail

import (
	"fmt"
	"strings"
)

// frame is the per-line state of one program run: the line, the capture
// registers of each pattern, the timestamp register, the `otherwise`
// flags and the error that aborts the run. One frame per program is reused
// for every line, so a run allocates nothing of its own.
type frame struct {
	prog     *Program
	line     string
	filename string
	seq      uint64   // line number, to invalidate cached matches
	seen     []uint64 // per pattern: seq of its last evaluation
	ok       []bool   // per pattern: whether it matched
	subj     []string // per pattern: the string it matched against
	caps     [][]int  // per pattern: submatch indexes
	matched  []bool   // per block with an `otherwise`: a condition was true
	ts       int64    // timestamp register (Unix ns), valid when hasTS
	hasTS    bool
	now      int64
	hasNow   bool
	stop     bool
	err      *RuntimeError
	key      []byte   // label key buffer
	ends     []uint32 // label value ends while building key
}

// RuntimeError is a failure while running a program on a line (a string
// that is not a number, a bad strptime, a division by zero). It aborts the
// rest of that program's run for that line, as in mtail.
type RuntimeError struct {
	Prog      string
	Line, Col int
	Msg       string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s:%d:%d: runtime error: %s", e.Prog, e.Line, e.Col, e.Msg)
}

func (f *frame) fail(p pos, format string, args ...any) {
	if f.err == nil {
		f.err = &RuntimeError{Prog: f.prog.Name, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
	}
}

// stamp is the time of an update: the timestamp register, else now.
func (f *frame) stamp() int64 {
	if f.hasTS {
		return f.ts
	}
	if !f.hasNow {
		f.now = f.prog.opts.Now().UnixNano()
		f.hasNow = true
	}
	return f.now
}

// capture returns group g of pattern id, "" when it did not participate or
// the pattern did not match this line.
func (f *frame) capture(id, g int) string {
	c := f.caps[id]
	if f.seen[id] != f.seq || c == nil || c[2*g] < 0 {
		return ""
	}
	return f.subj[id][c[2*g]:c[2*g+1]]
}

// match runs pattern id against s (once per line for line patterns).
func (f *frame) match(id int, s string) bool {
	p := f.prog.patterns[id]
	if p.onLine && f.seen[id] == f.seq {
		return f.ok[id]
	}
	f.seen[id], f.subj[id] = f.seq, s
	m := p.match(s)
	f.ok[id], f.caps[id] = m.ok, m.caps
	return m.ok
}

// match is a pattern's result on a string.
type match struct {
	ok   bool
	caps []int
}

// match runs the pattern; it only reads p, so any goroutine may call it.
func (p *pattern) match(s string) match {
	switch {
	case p.always && !p.needCaps:
		return match{ok: true}
	case p.literals != nil && !containsAny(s, p.literals):
		return match{}
	case p.literal && !p.needCaps:
		return match{ok: true}
	case p.needCaps:
		c := p.re.FindStringSubmatchIndex(s)
		return match{ok: c != nil, caps: c}
	}
	return match{ok: p.re.MatchString(s)}
}

// prematch matches the top-level patterns on line into out, which has
// room for len(p.top) results. Top-level patterns depend on the line
// alone, so this runs ahead of the program, on other cores.
func (p *Program) prematch(line string, out []match) {
	for i, id := range p.top {
		out[i] = p.patterns[id].match(line)
	}
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}
