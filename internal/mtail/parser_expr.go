package mtail

import (
	"strconv"
)

// builtins maps each builtin to its arity.
var builtins = map[string]int{
	"bool": 1, "float": 1, "getfilename": 0, "int": 1, "len": 1, "settime": 1, "string": 1,
	"strptime": 2, "strtol": 2, "subst": 3, "timestamp": 0, "tolower": 1,
}

var assignOps = map[string]bool{"=": true, "+=": true, "-=": true, "*=": true, "/=": true, "%=": true}

// Binary operator levels, lowest first (all left-associative).
var levels = [][]string{
	{"||"}, {"&&"}, {"|", "&", "^"}, {"<", "<=", ">", ">=", "==", "!="}, {"<<", ">>"}, {"+", "-"},
	{"*", "/", "%", "**"},
}

func (p *parser) expr() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "expression nested too deeply (more than %d levels)", maxDepth)
	}
	l, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tOp && assignOps[t.text] {
		p.take()
		p.skipNL()
		r, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &binaryExpr{posOf(t), t.text, l, r}, nil
	}
	return l, nil
}

func (p *parser) binary(level int) (expr, error) {
	if level == len(levels) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !contains(levels[level], t.text) {
			return l, nil
		}
		p.take()
		p.skipNL()
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{posOf(t), t.text, l, r}
	}
}

func contains[T comparable](ss []T, s T) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) unary() (expr, error) {
	if p.isOp("~") {
		t := p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{posOf(t), "~", x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	// m[a][b] is m[a, b].
	for p.isOp("[") {
		ix, ok := x.(*indexExpr)
		if !ok {
			return nil, p.unexpected("an operator")
		}
		p.take()
		for {
			p.skipNL()
			k, err := p.expr()
			if err != nil {
				return nil, err
			}
			ix.keys = append(ix.keys, k)
			if !p.isOp(",") {
				break
			}
			p.take()
		}
		if _, err := p.expectOp("]"); err != nil {
			return nil, err
		}
	}
	if p.isOp("++") || p.isOp("--") {
		t := p.take()
		return &unaryExpr{posOf(t), t.text, x}, nil
	}
	if p.isOp("=~") || p.isOp("!~") {
		t := p.take()
		p.skipNL()
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		return &matchExpr{posOf(t), t.text == "!~", x, r}, nil
	}
	return x, nil
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.kind {
	case tInt:
		p.take()
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.errorf(t, "bad integer %s: out of range", t.text)
		}
		return &intLit{posOf(t), v}, nil
	case tFloat:
		p.take()
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errorf(t, "bad number %s", t.text)
		}
		return &floatLit{posOf(t), v}, nil
	case tString:
		p.take()
		return &strLit{posOf(t), t.text}, nil
	case tCapRef:
		p.take()
		return &capRef{pos: posOf(t), name: t.text}, nil
	case tRegex:
		return p.pattern()
	case tID:
		if _, ok := p.consts[t.text]; ok {
			return p.pattern()
		}
		p.take()
		if n, ok := builtins[t.text]; ok {
			return p.call(t, n)
		}
		return &indexExpr{pos: posOf(t), name: t.text}, nil
	case tOp:
		if t.text == "(" {
			p.take()
			p.skipNL()
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			p.skipNL()
			if _, err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
	}
	return nil, p.unexpected("an expression")
}

func (p *parser) call(t token, arity int) (expr, error) {
	if _, err := p.expectOp("("); err != nil {
		return nil, err
	}
	c := &callExpr{pos: posOf(t), fn: t.text}
	p.skipNL()
	for !p.isOp(")") {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.skipNL()
		if !p.isOp(",") {
			break
		}
		p.take()
		p.skipNL()
	}
	if _, err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if len(c.args) != arity {
		return nil, p.errorf(t, "%s() takes %d argument(s), got %d", t.text, arity, len(c.args))
	}
	return c, nil
}

// pattern parses regex literals and const names joined by '+'.
func (p *parser) pattern() (expr, error) {
	first := p.peek()
	pe := &patternExpr{pos: posOf(first)}
	for {
		t := p.take()
		if t.kind == tRegex {
			pe.src += t.text
		} else {
			pe.src += p.consts[t.text]
		}
		// Continue on '+' followed (maybe after newlines) by a regex or const.
		save := p.i
		if !p.isOp("+") {
			return pe, nil
		}
		p.take()
		p.skipNL()
		n := p.peek()
		if n.kind == tRegex {
			continue
		}
		if _, ok := p.consts[n.text]; ok && n.kind == tID {
			continue
		}
		p.i = save
		return pe, nil
	}
}
