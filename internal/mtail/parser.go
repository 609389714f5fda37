package mtail

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parser is a recursive-descent parser over the token slice. Consts and
// defs are resolved while parsing: a const reference becomes the
// concatenated pattern text and `@name { ... }` becomes the def's body with
// the block in place of `next`.
type parser struct {
	file   string
	toks   []token
	i      int
	consts map[string]string
	defs   map[string][]stmt
	depth  int
}

// maxDepth bounds nesting, as mtail's AST depth limit does, so a hostile
// program cannot exhaust the stack.
const maxDepth = 100

func parse(file, src string) ([]stmt, error) {
	toks, err := lex(file, src)
	if err != nil {
		return nil, err
	}
	p := &parser{file: file, toks: toks, consts: map[string]string{}, defs: map[string][]stmt{}}
	body, err := p.stmts(false)
	if err != nil {
		return nil, err
	}
	return body, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}
func (p *parser) skipNL() {
	for p.peek().kind == tNL {
		p.i++
	}
}
func (p *parser) isOp(s string) bool { t := p.peek(); return t.kind == tOp && t.text == s }
func (p *parser) isKw(s string) bool { t := p.peek(); return t.kind == tKeyword && t.text == s }
func posOf(t token) pos              { return pos{t.line, t.col} }
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNL:
		return "newline"
	case tString:
		return strconv.Quote(t.text)
	case tRegex:
		return "/" + t.text + "/"
	case tCapRef:
		return "$" + t.text
	case tDeco:
		return "@" + t.text
	}
	return "'" + t.text + "'"
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &Error{File: p.file, Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) unexpected(want string) error {
	t := p.peek()
	return p.errorf(t, "syntax error: unexpected %s, expecting %s", describe(t), want)
}

func (p *parser) expectOp(s string) (token, error) {
	if !p.isOp(s) {
		return token{}, p.unexpected("'" + s + "'")
	}
	return p.take(), nil
}

// stmts parses statements up to EOF, or up to a '}' when inBlock.
func (p *parser) stmts(inBlock bool) ([]stmt, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek(), "program nested too deeply (more than %d levels)", maxDepth)
	}
	var out []stmt
	for {
		p.skipNL()
		t := p.peek()
		if t.kind == tEOF {
			if inBlock {
				return nil, p.unexpected("'}'")
			}
			return out, nil
		}
		if inBlock && p.isOp("}") {
			return out, nil
		}
		s, err := p.stmt()
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
		// A statement ends at a newline, a '}' or the end (mtail requires
		// the newline before '}'; sluice also takes `/x/ { c++ }`).
		if t := p.peek(); t.kind != tNL && t.kind != tEOF && !(t.kind == tOp && t.text == "}") {
			return nil, p.unexpected("newline")
		}
	}
}

func (p *parser) block() ([]stmt, error) {
	p.skipNL()
	if _, err := p.expectOp("{"); err != nil {
		return nil, err
	}
	body, err := p.stmts(true)
	if err != nil {
		return nil, err
	}
	p.take() // '}'
	if body == nil {
		body = []stmt{}
	}
	return body, nil
}

func (p *parser) stmt() ([]stmt, error) {
	t := p.peek()
	if t.kind == tKeyword {
		switch t.text {
		case "hidden", "counter", "gauge", "timer", "text", "histogram":
			d, err := p.decl()
			return []stmt{d}, err
		case "const":
			return nil, p.constDecl()
		case "def":
			return nil, p.defDecl()
		case "next":
			p.take()
			return []stmt{&nextStmt{posOf(t)}}, nil
		case "stop":
			p.take()
			return []stmt{&stopStmt{posOf(t)}}, nil
		case "del":
			d, err := p.del()
			return []stmt{d}, err
		case "otherwise":
			p.take()
			body, err := p.block()
			return []stmt{&condStmt{pos: posOf(t), then: body, otherwise: true}}, err
		}
		return nil, p.errorf(t, "syntax error: unexpected keyword '%s'", t.text)
	}
	if t.kind == tDeco {
		return p.deco()
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if !p.isOp("{") {
		return []stmt{&exprStmt{posOf(t), x}}, nil
	}
	then, err := p.block()
	if err != nil {
		return nil, err
	}
	c := &condStmt{pos: posOf(t), cond: x, then: then}
	save := p.i
	p.skipNL()
	if p.isKw("else") {
		p.take()
		if c.els, err = p.block(); err != nil {
			return nil, err
		}
	} else {
		p.i = save
	}
	return []stmt{c}, nil
}

func (p *parser) decl() (*declStmt, error) {
	d := &declStmt{pos: posOf(p.peek())}
	if p.isKw("hidden") {
		d.hidden = true
		p.take()
	}
	kt := p.take()
	k, ok := kindNames[kt.text]
	if !ok || kt.kind != tKeyword {
		return nil, p.errorf(kt, "syntax error: unexpected %s, expecting a metric kind", describe(kt))
	}
	d.kind = k
	nt := p.take()
	if nt.kind != tID && nt.kind != tString {
		return nil, p.errorf(nt, "syntax error: unexpected %s, expecting a metric name", describe(nt))
	}
	d.pos = posOf(nt)
	d.name, d.export = nt.text, nt.text
	d.srcRange = fmt.Sprintf("%d:%d", nt.line, nt.col)
	if nt.endCol > nt.col {
		d.srcRange += fmt.Sprintf("-%d", nt.endCol)
	}
	for p.peek().kind == tKeyword {
		switch a := p.take(); a.text {
		case "by":
			for {
				p.skipNL()
				kt := p.take()
				if kt.kind != tID && kt.kind != tString {
					return nil, p.errorf(kt, "syntax error: unexpected %s, expecting a label name", describe(kt))
				}
				d.keys = append(d.keys, kt.text)
				if !p.isOp(",") {
					break
				}
				p.take()
			}
		case "as":
			st := p.take()
			if st.kind != tString {
				return nil, p.errorf(st, "syntax error: unexpected %s, expecting a string after 'as'", describe(st))
			}
			d.export = st.text
		case "limit":
			lt := p.take()
			n, err := strconv.Atoi(lt.text)
			if lt.kind != tInt || err != nil || n < 0 {
				return nil, p.errorf(lt, "syntax error: unexpected %s, expecting a limit", describe(lt))
			}
			d.limit = n
		case "buckets":
			for {
				p.skipNL()
				bt := p.take()
				f, err := strconv.ParseFloat(bt.text, 64)
				if (bt.kind != tInt && bt.kind != tFloat) || err != nil {
					return nil, p.errorf(bt, "syntax error: unexpected %s, expecting a bucket bound", describe(bt))
				}
				d.buckets = append(d.buckets, f)
				if !p.isOp(",") {
					break
				}
				p.take()
			}
		default:
			return nil, p.errorf(a, "syntax error: unexpected keyword '%s' in a declaration", a.text)
		}
	}
	return d, nil
}

func (p *parser) constDecl() error {
	p.take()
	nt := p.take()
	if nt.kind != tID {
		return p.errorf(nt, "syntax error: unexpected %s, expecting a const name", describe(nt))
	}
	if _, dup := p.consts[nt.text]; dup {
		return p.errorf(nt, "redeclaration of const %q", nt.text)
	}
	x, err := p.primary()
	if err != nil {
		return err
	}
	pe, ok := x.(*patternExpr)
	if !ok {
		return p.errorf(nt, "const %s must be a regular expression", nt.text)
	}
	p.consts[nt.text] = pe.src
	return nil
}

func (p *parser) defDecl() error {
	p.take()
	nt := p.take()
	if nt.kind != tID {
		return p.errorf(nt, "syntax error: unexpected %s, expecting a decorator name", describe(nt))
	}
	body, err := p.block()
	if err != nil {
		return err
	}
	if n := countNext(body); n != 1 {
		return p.errorf(nt, "decorator %s must contain exactly one 'next' (it has %d)", nt.text, n)
	}
	p.defs[nt.text] = body
	return nil
}

func (p *parser) deco() ([]stmt, error) {
	t := p.take()
	def, ok := p.defs[t.text]
	if !ok {
		return nil, p.errorf(t, "decorator @%s is not defined (a def must come before its use)", t.text)
	}
	body, err := p.block()
	if err != nil {
		return nil, err
	}
	return replaceNext(def, body), nil
}

func countNext(body []stmt) int {
	n := 0
	for _, s := range body {
		switch s := s.(type) {
		case *nextStmt:
			n++
		case *condStmt:
			n += countNext(s.then) + countNext(s.els)
		}
	}
	return n
}

// replaceNext copies the def body with the decorated block where `next` is.
func replaceNext(def, block []stmt) []stmt {
	out := make([]stmt, 0, len(def)+len(block))
	for _, s := range def {
		switch s := s.(type) {
		case *nextStmt:
			out = append(out, block...)
		case *condStmt:
			c := *s
			c.then = replaceNext(s.then, block)
			if s.els != nil {
				c.els = replaceNext(s.els, block)
			}
			out = append(out, &c)
		default:
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) del() (*delStmt, error) {
	t := p.take()
	x, err := p.postfix()
	if err != nil {
		return nil, err
	}
	ix, ok := x.(*indexExpr)
	if !ok {
		return nil, p.errorf(t, "del needs a metric, like del m[$key]")
	}
	d := &delStmt{pos: posOf(t), target: ix}
	if p.isKw("after") {
		p.take()
		dt := p.take()
		if dt.kind != tDuration && dt.kind != tInt {
			return nil, p.errorf(dt, "syntax error: unexpected %s, expecting a duration like 24h", describe(dt))
		}
		dur, err := time.ParseDuration(dt.text)
		if err != nil {
			return nil, p.errorf(dt, "bad duration %q: %s", dt.text, strings.TrimPrefix(err.Error(), "time: "))
		}
		d.after = dur
	}
	return d, nil
}
