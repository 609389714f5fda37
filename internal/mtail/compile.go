package mtail

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// The compiled forms: a closure per node, typed by the node's static type,
// so a run does no type dispatch and boxes nothing.
type (
	iFn    func(*frame) int64
	fFn    func(*frame) float64
	sFn    func(*frame) string
	bFn    func(*frame) bool
	action func(*frame)
)

// compiler turns the checked AST into closures.
type compiler struct {
	prog  *Program
	slots int // `otherwise` flags allocated
	err   error
}

func (c *compiler) fail(p pos, format string, args ...any) {
	if c.err == nil {
		c.err = (&checker{file: c.prog.Name}).errorf(p, format, args...)
	}
}

// block compiles a statement list; a block holding an `otherwise` gets a
// flag that its conditions set when they take their true branch.
func (c *compiler) block(ss []stmt) action {
	slot := -1
	for _, s := range ss {
		if cs, ok := s.(*condStmt); ok && cs.otherwise {
			slot = c.slots
			c.slots++
			break
		}
	}
	var acts []action
	for _, s := range ss {
		if a := c.stmt(s, slot); a != nil {
			acts = append(acts, a)
		}
	}
	return func(f *frame) {
		if slot >= 0 {
			f.matched[slot] = false
		}
		for _, a := range acts {
			a(f)
			if f.err != nil || f.stop {
				return
			}
		}
	}
}

func (c *compiler) stmt(s stmt, slot int) action {
	switch s := s.(type) {
	case *condStmt:
		return c.cond(s, slot)
	case *exprStmt:
		return c.action(s.x)
	case *delStmt:
		m, key, after := s.target.m, c.key(s.target), s.after
		return func(f *frame) {
			if key(f); f.err == nil {
				m.del(f.key, after)
			}
		}
	case *stopStmt:
		return func(f *frame) { f.stop = true }
	}
	return nil
}

func (c *compiler) cond(s *condStmt, slot int) action {
	then := c.block(s.then)
	if s.otherwise {
		return func(f *frame) {
			if !f.matched[slot] {
				then(f)
			}
		}
	}
	cond := c.bool(s.cond)
	var els action
	if s.els != nil {
		els = c.block(s.els)
	}
	return func(f *frame) {
		if cond(f) {
			if f.err != nil {
				return
			}
			if slot >= 0 {
				f.matched[slot] = true
			}
			then(f)
		} else if els != nil && f.err == nil {
			els(f)
		}
	}
}

// key compiles the label expressions of a metric reference into a closure
// that writes the label values into f.key, then the end offset of each
// (4 bytes) and their count (1 byte): any bytes may occur in a value and
// two label tuples never share a key.
func (c *compiler) key(ix *indexExpr) action {
	if len(ix.keys) == 0 {
		return func(f *frame) { f.key = f.key[:0] }
	}
	parts := make([]func(*frame, []byte) []byte, len(ix.keys))
	for i, k := range ix.keys {
		parts[i] = c.appender(k)
	}
	return func(f *frame) {
		b, ends := f.key[:0], f.ends[:0]
		for _, p := range parts {
			b = p(f, b)
			ends = append(ends, uint32(len(b)))
		}
		for _, e := range ends {
			b = binary.LittleEndian.AppendUint32(b, e)
		}
		f.key, f.ends = append(b, byte(len(ends))), ends
	}
}

// appender formats a label value: ints with %d, floats with %g, strings as is.
func (c *compiler) appender(x expr) func(*frame, []byte) []byte {
	switch typeOf(x) {
	case Int:
		v := c.int(x)
		return func(f *frame, b []byte) []byte { return strconv.AppendInt(b, v(f), 10) }
	case Float:
		v := c.float(x)
		return func(f *frame, b []byte) []byte { return strconv.AppendFloat(b, v(f), 'g', -1, 64) }
	}
	v := c.str(x)
	return func(f *frame, b []byte) []byte { return append(b, v(f)...) }
}

// datum compiles a metric reference into a closure returning its datum
// (created on first use, as mtail does), or nil after a runtime error.
func (c *compiler) datum(ix *indexExpr) func(*frame) *datum {
	m := ix.m
	if len(ix.keys) == 0 {
		return func(*frame) *datum { return m.get(nil) }
	}
	key := c.key(ix)
	return func(f *frame) *datum {
		if key(f); f.err != nil {
			return nil
		}
		return m.get(f.key)
	}
}

// action compiles an expression used as a statement.
func (c *compiler) action(x expr) action {
	switch x := x.(type) {
	case *binaryExpr:
		if assignOps[x.op] {
			return c.assign(x)
		}
	case *unaryExpr:
		if x.op == "++" || x.op == "--" {
			return c.incr(x)
		}
	case *callExpr:
		switch x.fn {
		case "strptime":
			return c.strptime(x)
		case "settime":
			v := c.int(x.args[0])
			return func(f *frame) {
				if t := v(f); f.err == nil {
					f.ts, f.hasTS = t*1e9, true
				}
			}
		}
	}
	switch typeOf(x) {
	case Int:
		v := c.int(x)
		return func(f *frame) { v(f) }
	case Float:
		v := c.float(x)
		return func(f *frame) { v(f) }
	case tyBool:
		v := c.bool(x)
		return func(f *frame) { v(f) }
	}
	v := c.str(x)
	return func(f *frame) { v(f) }
}

func (c *compiler) incr(x *unaryExpr) action {
	ix := x.x.(*indexExpr)
	d, m := c.datum(ix), ix.m
	delta := int64(1)
	if x.op == "--" {
		delta = -1
	}
	return func(f *frame) {
		dt := d(f)
		if dt == nil {
			return
		}
		switch m.Type {
		case Int:
			dt.i += delta
		case Float:
			dt.f += float64(delta)
		default:
			f.fail(x.pos, "%s on a %s metric", x.op, m.Kind)
			return
		}
		dt.time = f.stamp()
	}
}

func (c *compiler) assign(x *binaryExpr) action {
	ix := x.l.(*indexExpr)
	d, m := c.datum(ix), ix.m
	switch {
	case m.Kind == Histogram:
		v := c.float(x.r)
		return func(f *frame) {
			dt := d(f)
			if dt == nil {
				return
			}
			if val := v(f); f.err == nil {
				dt.observe(m.Bounds, val)
				dt.time = f.stamp()
			}
		}
	case m.Type == String:
		if x.op != "=" && x.op != "+=" {
			c.fail(x.pos, "%s on text metric `%s'", x.op, ix.name)
		}
		v, add := c.str(x.r), x.op == "+="
		return func(f *frame) {
			dt := d(f)
			if dt == nil {
				return
			}
			if s := v(f); f.err == nil {
				if add {
					dt.s += s
				} else {
					dt.s = strings.Clone(s)
				}
				dt.time = f.stamp()
			}
		}
	case m.Type == Float:
		return c.assignFloat(x, d)
	}
	return c.assignInt(x, d)
}

func (c *compiler) assignInt(x *binaryExpr, d func(*frame) *datum) action {
	v, op := c.int(x.r), x.op
	return func(f *frame) {
		dt := d(f)
		if dt == nil {
			return
		}
		val := v(f)
		if f.err != nil {
			return
		}
		switch op {
		case "=":
			dt.i = val
		case "+=":
			dt.i += val
		case "-=":
			dt.i -= val
		case "*=":
			dt.i *= val
		case "/=", "%=":
			if val == 0 {
				f.fail(x.pos, "division by zero")
				return
			}
			if op == "/=" {
				dt.i /= val
			} else {
				dt.i %= val
			}
		}
		dt.time = f.stamp()
	}
}

func (c *compiler) assignFloat(x *binaryExpr, d func(*frame) *datum) action {
	v, op := c.float(x.r), x.op
	return func(f *frame) {
		dt := d(f)
		if dt == nil {
			return
		}
		val := v(f)
		if f.err != nil {
			return
		}
		switch op {
		case "=":
			dt.f = val
		case "+=":
			dt.f += val
		case "-=":
			dt.f -= val
		case "*=":
			dt.f *= val
		case "/=", "%=":
			if val == 0 {
				f.fail(x.pos, "division by zero")
				return
			}
			if op == "/=" {
				dt.f /= val
			} else {
				dt.f = fmod(dt.f, val)
			}
		}
		dt.time = f.stamp()
	}
}
