package mtail

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
)

// maxRegexLen is mtail's --max_regexp_length default.
const maxRegexLen = 1024

// capInfo is where a named or numbered capture group comes from.
type capInfo struct {
	pat, group int
	typ        Type
}

// pattern is one compiled regex of a program.
type pattern struct {
	src      string
	re       *regexp.Regexp
	literals []string // the prefilter: a match contains one of these; nil: none
	needCaps bool     // some $ref reads its groups
	onLine   bool
	// always: the pattern matches every string (//, /^/, /$/), so without
	// captures to fill it needs no regex run; `/$/ { lines++ }` is common.
	always bool
	// usedGroups are the groups some $ref reads; groupMap maps a group
	// of the source to its number in re once the others are made
	// non-capturing (fewer groups: a faster backtracker).
	usedGroups map[int]bool
	groupMap   []int
	// literal: the pattern is one plain string, so the prefilter's
	// substring search is the whole match when no captures are read.
	literal bool
}

// checker resolves names (metrics, captures, patterns) and infers types.
type checker struct {
	file     string
	metrics  []*metric
	byName   map[string]*metric
	used     map[*metric]bool
	decls    map[*metric]*declStmt
	patterns []*pattern
	lineIDs  map[string]int
	scopes   []map[string]capInfo
	assigns  []assignment
	top      []int // line patterns in top-level conditions
}

// assignment records a value flowing into a metric, for type inference.
type assignment struct {
	m *metric
	x expr
}

func (c *checker) errorf(p pos, format string, args ...any) error {
	return &Error{File: c.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) stmts(ss []stmt) error {
	for _, s := range ss {
		if err := c.stmt(s); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) push() { c.scopes = append(c.scopes, map[string]capInfo{}) }
func (c *checker) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

func (c *checker) stmt(s stmt) error {
	switch s := s.(type) {
	case *declStmt:
		return c.decl(s)
	case *condStmt:
		c.push()
		if s.cond != nil {
			if err := c.cond(s.cond); err != nil {
				return err
			}
		}
		if err := c.stmts(s.then); err != nil {
			return err
		}
		c.pop()
		c.push()
		defer c.pop()
		return c.stmts(s.els)
	case *exprStmt:
		if p, ok := s.x.(*patternExpr); ok {
			return c.errorf(p.pos, "a regular expression alone needs a block: /re/ { ... }")
		}
		return c.expr(s.x)
	case *delStmt:
		return c.expr(s.target)
	case *nextStmt:
		return c.errorf(s.pos, "'next' outside a def")
	}
	return nil
}

func (c *checker) decl(d *declStmt) error {
	if _, dup := c.byName[d.name]; dup {
		return c.errorf(d.pos, "redeclaration of metric `%s'", d.name)
	}
	if _, ok := builtins[d.name]; ok {
		return c.errorf(d.pos, "`%s' is a builtin function and cannot name a metric", d.name)
	}
	if len(d.keys) > 255 {
		return c.errorf(d.pos, "metric `%s' has more than 255 label keys", d.name)
	}
	if d.kind == Histogram && len(d.buckets) < 2 {
		return c.errorf(d.pos, "histogram `%s' needs at least two buckets", d.name)
	}
	if d.kind != Histogram && d.buckets != nil {
		return c.errorf(d.pos, "buckets are only for histograms, `%s' is a %s", d.name, d.kind)
	}
	for i := 1; i < len(d.buckets); i++ {
		if d.buckets[i] <= d.buckets[i-1] {
			return c.errorf(d.pos, "buckets of `%s' must be strictly increasing", d.name)
		}
	}
	m := newMetric(d)
	c.metrics = append(c.metrics, m)
	c.byName[d.name] = m
	c.decls[m] = d
	return nil
}

// cond checks a condition: a bare pattern (or one on either side of && and
// ||) matches the line.
func (c *checker) cond(x expr) error {
	if b, ok := x.(*binaryExpr); ok && (b.op == "&&" || b.op == "||") {
		if err := c.cond(b.l); err != nil {
			return err
		}
		return c.cond(b.r)
	}
	if p, ok := x.(*patternExpr); ok {
		p.onLine = true
		if err := c.pattern(p); err != nil {
			return err
		}
		if len(c.scopes) == 2 && !contains(c.top, p.id) {
			c.top = append(c.top, p.id)
		}
		return nil
	}
	return c.expr(x)
}

func (c *checker) pattern(p *patternExpr) error {
	if len(p.src) > maxRegexLen {
		return c.errorf(p.pos, "regular expression is %d bytes, longer than the %d allowed", len(p.src), maxRegexLen)
	}
	if p.onLine {
		if id, ok := c.lineIDs[p.src]; ok {
			p.id = id
			return c.defineCaps(p, c.patterns[id].re)
		}
	}
	re, err := regexp.Compile(p.src)
	if err != nil {
		return c.errorf(p.pos, "bad regular expression /%s/: %s", p.src, err)
	}
	tree, err := syntax.Parse(p.src, syntax.Perl)
	if err != nil {
		return c.errorf(p.pos, "bad regular expression /%s/: %s", p.src, err)
	}
	pt := &pattern{src: p.src, re: re, literals: prefilter(tree), onLine: p.onLine, always: matchesAll(tree),
		literal: tree.Op == syntax.OpLiteral && tree.Flags&syntax.FoldCase == 0}
	p.id = len(c.patterns)
	c.patterns = append(c.patterns, pt)
	if p.onLine {
		c.lineIDs[p.src] = p.id
	}
	return c.defineCaps(p, re)
}

// defineCaps puts the pattern's groups ($0, $1.., $name) into the current scope.
func (c *checker) defineCaps(p *patternExpr, re *regexp.Regexp) error {
	tree, _ := syntax.Parse(p.src, syntax.Perl)
	types := make([]Type, re.NumSubexp()+1)
	types[0] = String
	var walk func(t *syntax.Regexp)
	walk = func(t *syntax.Regexp) {
		if t.Op == syntax.OpCapture && t.Cap < len(types) {
			types[t.Cap] = captureType(t)
		}
		for _, s := range t.Sub {
			walk(s)
		}
	}
	walk(tree)
	scope := c.scopes[len(c.scopes)-1]
	for i, name := range re.SubexpNames() {
		info := capInfo{pat: p.id, group: i, typ: types[i]}
		num := strconv.Itoa(i)
		if _, dup := scope[num]; dup && i > 0 {
			return c.errorf(p.pos, "redeclaration of capture group `%s'", num)
		}
		scope[num] = info
		if name != "" {
			if _, dup := scope[name]; dup {
				return c.errorf(p.pos, "redeclaration of capture group `%s'", name)
			}
			scope[name] = info
		}
	}
	return nil
}

func (c *checker) expr(x expr) error {
	switch x := x.(type) {
	case *patternExpr:
		return c.errorf(x.pos, "a regular expression can only be a condition, the right of =~, or subst's first argument")
	case *capRef:
		for i := len(c.scopes) - 1; i >= 0; i-- {
			if info, ok := c.scopes[i][x.name]; ok {
				x.pat, x.group, x.typ = info.pat, info.group, info.typ
				if x.pat >= 0 {
					pt := c.patterns[x.pat]
					pt.needCaps = true
					if pt.usedGroups == nil {
						pt.usedGroups = map[int]bool{}
					}
					pt.usedGroups[x.group] = true
				}
				return nil
			}
		}
		return c.errorf(x.pos, "capture group `$%s' was not defined by a preceding regular expression", x.name)
	case *indexExpr:
		m, ok := c.byName[x.name]
		if !ok {
			return c.errorf(x.pos, "identifier `%s' not declared (declare a metric before using it)", x.name)
		}
		if len(x.keys) != len(m.Keys) {
			return c.errorf(x.pos, "metric `%s' has %d label key(s), indexed with %d", x.name, len(m.Keys), len(x.keys))
		}
		x.m = m
		c.used[m] = true
		for _, k := range x.keys {
			if err := c.expr(k); err != nil {
				return err
			}
		}
	case *callExpr:
		return c.call(x)
	case *binaryExpr:
		if assignOps[x.op] {
			ix, ok := x.l.(*indexExpr)
			if !ok {
				return c.errorf(x.pos, "the left of %s must be a metric", x.op)
			}
			if err := c.expr(ix); err != nil {
				return err
			}
			c.assigns = append(c.assigns, assignment{ix.m, x})
			return c.expr(x.r)
		}
		if err := c.expr(x.l); err != nil {
			return err
		}
		return c.expr(x.r)
	case *unaryExpr:
		if x.op != "~" {
			if _, ok := x.x.(*indexExpr); !ok {
				return c.errorf(x.pos, "%s needs a metric", x.op)
			}
		}
		return c.expr(x.x)
	case *matchExpr:
		if err := c.expr(x.l); err != nil {
			return err
		}
		if p, ok := x.re.(*patternExpr); ok {
			return c.pattern(p)
		}
		return c.expr(x.re)
	}
	return nil
}

func (c *checker) call(x *callExpr) error {
	switch x.fn {
	case "strptime":
		if _, ok := x.args[1].(*strLit); !ok {
			return c.errorf(x.pos, "strptime's layout must be a string literal")
		}
	case "subst":
		if p, ok := x.args[0].(*patternExpr); ok {
			if err := c.pattern(p); err != nil {
				return err
			}
			return c.exprs(x.args[1:])
		}
	}
	return c.exprs(x.args)
}

func (c *checker) exprs(xs []expr) error {
	for _, a := range xs {
		if err := c.expr(a); err != nil {
			return err
		}
	}
	return nil
}

// matchesAll reports whether re matches every string: empty, or one
// begin/end assertion.
func matchesAll(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine:
		return true
	case syntax.OpConcat:
		return len(re.Sub) == 0 || (len(re.Sub) == 1 && matchesAll(re.Sub[0]))
	}
	return false
}

// dropUnusedGroups recompiles a pattern with the groups no $ref reads
// turned into non-capturing ones: Go's backtracker saves and restores
// every group on every attempt, so apache_combined's 13 groups cost much
// more than the 5 it reads. groupMap then renumbers the groups read.
func (p *pattern) dropUnusedGroups() {
	tree, err := syntax.Parse(p.src, syntax.Perl)
	if err != nil || !p.needCaps || len(p.usedGroups) >= p.re.NumSubexp() {
		return
	}
	groupMap := make([]int, p.re.NumSubexp()+1)
	next := 1
	// A pre-order walk meets groups in the order of their opening
	// parenthesis, which is their numbering.
	var walk func(t *syntax.Regexp) *syntax.Regexp
	walk = func(t *syntax.Regexp) *syntax.Regexp {
		if t.Op == syntax.OpCapture {
			if !p.usedGroups[t.Cap] {
				return walk(t.Sub[0])
			}
			groupMap[t.Cap] = next
			t.Cap, t.Name = next, ""
			next++
		}
		for i, s := range t.Sub {
			t.Sub[i] = walk(s)
		}
		return t
	}
	tree = walk(tree)
	re, err := regexp.Compile(tree.String())
	if err != nil || re.NumSubexp() != next-1 {
		return // keep the original
	}
	p.re, p.groupMap = re, groupMap
}

// group maps a source group number to re's.
func (p *pattern) group(g int) int {
	if p.groupMap == nil || g == 0 {
		return g
	}
	return p.groupMap[g]
}
