package mtail

import (
	"strconv"
	"strings"
	"time"
)

func (c *compiler) intCall(x *callExpr) iFn {
	switch x.fn {
	case "timestamp":
		return func(f *frame) int64 {
			if f.hasTS {
				return f.ts / 1e9
			}
			return f.stamp() / 1e9
		}
	case "len":
		v := c.str(x.args[0])
		return func(f *frame) int64 { return int64(len(v(f))) }
	case "strtol":
		v, base, p := c.str(x.args[0]), c.int(x.args[1]), x.pos
		return func(f *frame) int64 {
			s, b := v(f), base(f)
			if b < 2 || b > 36 {
				f.fail(p, "strtol: base %d out of range", b)
				return 0
			}
			n, err := strconv.ParseInt(s, int(b), 64)
			if err != nil {
				f.fail(p, "strtol(%q, %d): %v", s, b, unwrapNum(err))
			}
			return n
		}
	case "int":
		return c.int(x.args[0])
	}
	c.fail(x.pos, "%s() is not an Int", x.fn)
	return func(*frame) int64 { return 0 }
}

func (c *compiler) strCall(x *callExpr) sFn {
	switch x.fn {
	case "getfilename":
		return func(f *frame) string { return f.filename }
	case "tolower":
		v := c.str(x.args[0])
		return func(f *frame) string { return strings.ToLower(v(f)) }
	case "string":
		return c.str(x.args[0])
	case "subst":
		repl, s := c.str(x.args[1]), c.str(x.args[2])
		if p, ok := x.args[0].(*patternExpr); ok {
			re := c.prog.patterns[p.id].re
			return func(f *frame) string { return re.ReplaceAllLiteralString(s(f), repl(f)) }
		}
		old := c.str(x.args[0])
		return func(f *frame) string { return strings.ReplaceAll(s(f), old(f), repl(f)) }
	}
	c.fail(x.pos, "%s() is not a String", x.fn)
	return func(*frame) string { return "" }
}

// strptime parses with a Go layout into the timestamp register. The last
// input of each call site is remembered: log timestamps repeat for many
// consecutive lines.
func (c *compiler) strptime(x *callExpr) action {
	v, layout, p := c.str(x.args[0]), x.args[1].(*strLit).v, x.pos
	opts := c.prog.opts
	var lastIn string
	var lastTS int64
	have := false
	return func(f *frame) {
		s := v(f)
		if f.err != nil {
			return
		}
		if have && s == lastIn {
			f.ts, f.hasTS = lastTS, true
			return
		}
		t, err := time.ParseInLocation(layout, s, opts.Location)
		if err != nil {
			f.fail(p, "strptime(%q, %q): %v", s, layout, err)
			return
		}
		if t.Year() == 0 && opts.SyslogUseCurrentYear {
			t = t.AddDate(opts.Now().Year(), 0, 0)
		}
		lastIn, lastTS, have = strings.Clone(s), t.UnixNano(), true
		f.ts, f.hasTS = lastTS, true
	}
}
