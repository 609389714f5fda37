package mtail

import (
	"math"
	"strconv"
)

// int compiles x to an Int closure, converting from its static type; a
// string that is not an integer is a runtime error, as in mtail.
func (c *compiler) int(x expr) iFn {
	switch typeOf(x) {
	case Int:
		return c.intDirect(x)
	case Float:
		v := c.floatDirect(x)
		return func(f *frame) int64 { return int64(v(f)) }
	case tyBool:
		v := c.bool(x)
		return func(f *frame) int64 { return b2i(v(f)) }
	case String:
		v, p := c.strDirect(x), x.at()
		return func(f *frame) int64 { return parseInt(f, p, v(f)) }
	}
	a := c.action(x)
	return func(f *frame) int64 { a(f); return 0 }
}

func parseInt(f *frame, p pos, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.fail(p, "converting %q to Int: %v", s, unwrapNum(err))
	}
	return n
}

func parseFloat(f *frame, p pos, s string) float64 {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		f.fail(p, "converting %q to Float: %v", s, unwrapNum(err))
	}
	return n
}

func unwrapNum(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *compiler) float(x expr) fFn {
	switch typeOf(x) {
	case Float:
		return c.floatDirect(x)
	case String:
		v, p := c.strDirect(x), x.at()
		return func(f *frame) float64 { return parseFloat(f, p, v(f)) }
	}
	v := c.int(x)
	return func(f *frame) float64 { return float64(v(f)) }
}

func (c *compiler) str(x expr) sFn {
	switch typeOf(x) {
	case String:
		return c.strDirect(x)
	case Float:
		v := c.floatDirect(x)
		return func(f *frame) string { return strconv.FormatFloat(v(f), 'g', -1, 64) }
	case tyBool:
		v := c.bool(x)
		return func(f *frame) string { return strconv.FormatBool(v(f)) }
	}
	v := c.int(x)
	return func(f *frame) string { return strconv.FormatInt(v(f), 10) }
}

func (c *compiler) bool(x expr) bFn {
	switch typeOf(x) {
	case tyBool:
		return c.boolDirect(x)
	case Float:
		v := c.floatDirect(x)
		return func(f *frame) bool { return v(f) != 0 }
	case String:
		v := c.strDirect(x)
		return func(f *frame) bool { return v(f) != "" }
	case Int:
		v := c.intDirect(x)
		return func(f *frame) bool { return v(f) != 0 }
	}
	a := c.action(x)
	return func(f *frame) bool { a(f); return false }
}

func (c *compiler) intDirect(x expr) iFn {
	switch x := x.(type) {
	case *intLit:
		v := x.v
		return func(*frame) int64 { return v }
	case *capRef:
		id, g, p := x.pat, c.prog.patterns[x.pat].group(x.group), x.pos
		return func(f *frame) int64 { return parseInt(f, p, f.capture(id, g)) }
	case *indexExpr:
		d := c.datum(x)
		return func(f *frame) int64 {
			if dt := d(f); dt != nil {
				return dt.i
			}
			return 0
		}
	case *callExpr:
		return c.intCall(x)
	case *unaryExpr: // ~
		v := c.int(x.x)
		return func(f *frame) int64 { return ^v(f) }
	case *binaryExpr:
		return c.intBinary(x)
	}
	c.fail(x.at(), "internal error: no Int code for %T", x)
	return func(*frame) int64 { return 0 }
}

func (c *compiler) floatDirect(x expr) fFn {
	switch x := x.(type) {
	case *floatLit:
		v := x.v
		return func(*frame) float64 { return v }
	case *capRef:
		id, g, p := x.pat, c.prog.patterns[x.pat].group(x.group), x.pos
		return func(f *frame) float64 { return parseFloat(f, p, f.capture(id, g)) }
	case *indexExpr:
		d, hist := c.datum(x), x.m.Kind == Histogram
		return func(f *frame) float64 {
			dt := d(f)
			switch {
			case dt == nil:
				return 0
			case hist:
				return dt.sum
			}
			return dt.f
		}
	case *callExpr: // float()
		return c.float(x.args[0])
	case *binaryExpr:
		return c.floatBinary(x)
	}
	c.fail(x.at(), "internal error: no Float code for %T", x)
	return func(*frame) float64 { return 0 }
}

func (c *compiler) strDirect(x expr) sFn {
	switch x := x.(type) {
	case *strLit:
		v := x.v
		return func(*frame) string { return v }
	case *capRef:
		id, g := x.pat, c.prog.patterns[x.pat].group(x.group)
		return func(f *frame) string { return f.capture(id, g) }
	case *indexExpr:
		d := c.datum(x)
		return func(f *frame) string {
			if dt := d(f); dt != nil {
				return dt.s
			}
			return ""
		}
	case *callExpr:
		return c.strCall(x)
	case *binaryExpr: // '+' concatenates
		l, r := c.str(x.l), c.str(x.r)
		return func(f *frame) string { return l(f) + r(f) }
	}
	c.fail(x.at(), "internal error: no String code for %T", x)
	return func(*frame) string { return "" }
}

func (c *compiler) boolDirect(x expr) bFn {
	switch x := x.(type) {
	case *patternExpr:
		id := x.id
		return func(f *frame) bool { return f.match(id, f.line) }
	case *matchExpr:
		return c.match(x)
	case *callExpr: // bool()
		return c.bool(x.args[0])
	case *binaryExpr:
		return c.boolBinary(x)
	}
	c.fail(x.at(), "internal error: no Bool code for %T", x)
	return func(*frame) bool { return false }
}

func fmod(a, b float64) float64 { return math.Mod(a, b) }
