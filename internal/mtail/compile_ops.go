package mtail

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

func (c *compiler) intBinary(x *binaryExpr) iFn {
	if assignOps[x.op] {
		c.fail(x.pos, "an assignment is a statement, not a value")
		return func(*frame) int64 { return 0 }
	}
	l, r, p := c.int(x.l), c.int(x.r), x.pos
	switch x.op {
	case "+":
		return func(f *frame) int64 { return l(f) + r(f) }
	case "-":
		return func(f *frame) int64 { return l(f) - r(f) }
	case "*":
		return func(f *frame) int64 { return l(f) * r(f) }
	case "/", "%":
		div := x.op == "/"
		return func(f *frame) int64 {
			a, b := l(f), r(f)
			if b == 0 {
				f.fail(p, "division by zero")
				return 0
			}
			if div {
				return a / b
			}
			return a % b
		}
	case "**":
		return func(f *frame) int64 { return ipow(l(f), r(f)) }
	case "&":
		return func(f *frame) int64 { return l(f) & r(f) }
	case "|":
		return func(f *frame) int64 { return l(f) | r(f) }
	case "^":
		return func(f *frame) int64 { return l(f) ^ r(f) }
	case "<<":
		return func(f *frame) int64 { return l(f) << uint64(r(f)&63) }
	case ">>":
		return func(f *frame) int64 { return l(f) >> uint64(r(f)&63) }
	}
	c.fail(x.pos, "operator %s has no Int form", x.op)
	return func(*frame) int64 { return 0 }
}

func ipow(a, b int64) int64 {
	if b < 0 {
		return int64(math.Pow(float64(a), float64(b)))
	}
	// Square and multiply: a huge exponent costs 64 steps, not b.
	r := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
	}
	return r
}

func (c *compiler) floatBinary(x *binaryExpr) fFn {
	l, r, p := c.float(x.l), c.float(x.r), x.pos
	switch x.op {
	case "+":
		return func(f *frame) float64 { return l(f) + r(f) }
	case "-":
		return func(f *frame) float64 { return l(f) - r(f) }
	case "*":
		return func(f *frame) float64 { return l(f) * r(f) }
	case "/", "%":
		div := x.op == "/"
		return func(f *frame) float64 {
			a, b := l(f), r(f)
			if b == 0 {
				f.fail(p, "division by zero")
				return 0
			}
			if div {
				return a / b
			}
			return math.Mod(a, b)
		}
	case "**":
		return func(f *frame) float64 { return math.Pow(l(f), r(f)) }
	}
	c.fail(x.pos, "operator %s has no Float form", x.op)
	return func(*frame) float64 { return 0 }
}

func (c *compiler) boolBinary(x *binaryExpr) bFn {
	switch x.op {
	case "&&":
		l, r := c.bool(x.l), c.bool(x.r)
		return func(f *frame) bool { return l(f) && f.err == nil && r(f) }
	case "||":
		l, r := c.bool(x.l), c.bool(x.r)
		return func(f *frame) bool { return l(f) || (f.err == nil && r(f)) }
	}
	cmp := c.compare(x)
	var want func(int) bool
	switch x.op {
	case "<":
		want = func(n int) bool { return n < 0 }
	case "<=":
		want = func(n int) bool { return n <= 0 }
	case ">":
		want = func(n int) bool { return n > 0 }
	case ">=":
		want = func(n int) bool { return n >= 0 }
	case "==":
		want = func(n int) bool { return n == 0 }
	default:
		want = func(n int) bool { return n != 0 }
	}
	return func(f *frame) bool { return want(cmp(f)) }
}

// compare compiles a three-way comparison in the operands' common type.
// A string against a number compares numerically when the string parses
// as one, else as strings.
func (c *compiler) compare(x *binaryExpr) func(*frame) int {
	tl, tr := typeOf(x.l), typeOf(x.r)
	switch {
	case tl == String && tr == String:
		l, r := c.str(x.l), c.str(x.r)
		return func(f *frame) int { return strings.Compare(l(f), r(f)) }
	case tl == String || tr == String:
		l, r := c.str(x.l), c.str(x.r)
		return func(f *frame) int {
			a, b := l(f), r(f)
			fa, errA := strconv.ParseFloat(a, 64)
			fb, errB := strconv.ParseFloat(b, 64)
			if errA == nil && errB == nil {
				return fcmp(fa, fb)
			}
			return strings.Compare(a, b)
		}
	case tl == Float || tr == Float:
		l, r := c.float(x.l), c.float(x.r)
		return func(f *frame) int { return fcmp(l(f), r(f)) }
	}
	l, r := c.int(x.l), c.int(x.r)
	return func(f *frame) int {
		a, b := l(f), r(f)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
}

func fcmp(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// match compiles `s =~ /re/` and `s !~ /re/`; a string on the right is
// compiled at run time (the last one is cached).
func (c *compiler) match(x *matchExpr) bFn {
	subj, not := c.str(x.l), x.not
	if p, ok := x.re.(*patternExpr); ok {
		id := p.id
		return func(f *frame) bool { return f.match(id, subj(f)) != not }
	}
	src, p := c.str(x.re), x.pos
	var lastSrc string
	var last *regexp.Regexp
	return func(f *frame) bool {
		s, pat := subj(f), src(f)
		if last == nil || pat != lastSrc {
			re, err := regexp.Compile(pat)
			if err != nil {
				f.fail(p, "bad regular expression %q: %v", pat, err)
				return false
			}
			last, lastSrc = re, strings.Clone(pat)
		}
		return last.MatchString(s) != not
	}
}
