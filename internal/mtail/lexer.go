package mtail

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tok is a token kind.
type tok int

const (
	tEOF tok = iota
	tNL
	tID
	tCapRef // $name or $N
	tDeco   // @name
	tString
	tRegex
	tInt
	tFloat
	tDuration
	tKeyword
	tOp // punctuation and operators; the text says which
)

var keywords = map[string]bool{
	"after": true, "as": true, "buckets": true, "by": true, "const": true, "counter": true,
	"def": true, "del": true, "else": true, "gauge": true, "hidden": true, "histogram": true,
	"limit": true, "next": true, "otherwise": true, "stop": true, "text": true, "timer": true,
}

// token is one lexeme with its position (1-based line and column).
type token struct {
	kind      tok
	text      string
	line, col int
	endCol    int // column of the last character
}

// ops are the operators, longest first so that "**=" wins over "**" and "*".
var ops = []string{
	"<<", ">>", "<=", ">=", "==", "!=", "=~", "!~", "&&", "||", "++", "--", "+=", "-=", "*=", "/=",
	"%=", "**", "{", "}", "[", "]", "(", ")", ",", "+", "-", "*", "/", "%", "&", "|", "^", "~",
	"<", ">", "=",
}

// lexer turns program text into tokens. Whether a '/' opens a regex or is
// a division depends on the token before it, as in mtail: after an
// operand (a name, a number, a string, ')' or ']') it divides.
type lexer struct {
	src       string
	file      string
	pos       int
	line, col int
	toks      []token
}

func lex(file, src string) ([]token, error) {
	l := &lexer{src: src, file: file, line: 1, col: 1}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, nil
		}
	}
}

func (l *lexer) errorf(line, col int, format string, args ...any) error {
	return &Error{File: l.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else if l.src[l.pos] < utf8.RuneSelf || utf8.RuneStart(l.src[l.pos]) {
			l.col++
		}
		l.pos++
	}
}

// regexAllowed reports whether a '/' here starts a regex literal.
func (l *lexer) regexAllowed() bool {
	if len(l.toks) == 0 {
		return true
	}
	p := l.toks[len(l.toks)-1]
	switch p.kind {
	case tInt, tFloat, tString, tCapRef, tDuration:
		return false
	case tID:
		// `const NAME /re/`
		return len(l.toks) >= 2 && l.toks[len(l.toks)-2].kind == tKeyword && l.toks[len(l.toks)-2].text == "const"
	case tOp:
		return p.text != ")" && p.text != "]" && p.text != "++" && p.text != "--"
	}
	return true
}

func (l *lexer) next() (token, error) {
	// Skip blanks and comments; keep newlines.
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\r' {
			l.advance(1)
		} else if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
		} else if c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '\n' {
			l.advance(2) // line continuation
		} else {
			break
		}
	}
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		t.kind = tEOF
		return t, nil
	}
	start := l.pos
	c := l.src[l.pos]
	switch {
	case c == '\n':
		l.advance(1)
		t.kind, t.text = tNL, "\n"
	case c == '"':
		return l.lexString(t)
	case c == '/' && l.regexAllowed():
		return l.lexRegex(t)
	case c == '$' || c == '@':
		l.advance(1)
		n := l.identLen()
		if c == '$' && n == 0 {
			for n < len(l.src)-l.pos && isDigit(l.src[l.pos+n]) {
				n++
			}
		}
		if n == 0 {
			return t, l.errorf(t.line, t.col, "expected a name after %q", c)
		}
		l.advance(n)
		t.kind, t.text = tCapRef, l.src[start+1:l.pos]
		if c == '@' {
			t.kind = tDeco
		}
	case isDigit(c) || (c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])) ||
		(c == '-' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]) && l.negativeAllowed()):
		return l.lexNumber(t)
	default:
		if n := l.identLen(); n > 0 {
			l.advance(n)
			t.text = l.src[start:l.pos]
			t.kind = tID
			if keywords[t.text] {
				t.kind = tKeyword
			}
			break
		}
		for _, op := range ops {
			if strings.HasPrefix(l.src[l.pos:], op) {
				l.advance(len(op))
				t.kind, t.text = tOp, op
				t.endCol = l.col - 1
				return t, nil
			}
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
		return t, l.errorf(t.line, t.col, "unexpected input %q", r)
	}
	t.endCol = l.col - 1
	return t, nil
}

// negativeAllowed: "-1" is a negative literal, as in mtail, except right
// after an operand where it is a subtraction written without spaces; mtail
// rejects `$1-1` there, sluice reads it as the subtraction.
func (l *lexer) negativeAllowed() bool { return l.regexAllowed() }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) identLen() int {
	i := l.pos
	for i < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[i:])
		if unicode.IsLetter(r) || r == '_' || (i > l.pos && unicode.IsDigit(r)) {
			i += n
			continue
		}
		break
	}
	return i - l.pos
}

func (l *lexer) lexString(t token) (token, error) {
	l.advance(1)
	var b strings.Builder
	for {
		if l.pos >= len(l.src) || l.src[l.pos] == '\n' {
			return t, l.errorf(t.line, t.col, "unterminated string")
		}
		c := l.src[l.pos]
		if c == '"' {
			l.advance(1)
			break
		}
		// No escape processing but \" (mtail's rule).
		if c == '\\' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '"' {
			b.WriteByte('"')
			l.advance(2)
			continue
		}
		b.WriteByte(c)
		l.advance(1)
	}
	t.kind, t.text, t.endCol = tString, b.String(), l.col-1
	return t, nil
}

func (l *lexer) lexRegex(t token) (token, error) {
	l.advance(1)
	var b strings.Builder
	for {
		if l.pos >= len(l.src) || l.src[l.pos] == '\n' {
			return t, l.errorf(t.line, t.col, "unterminated regular expression")
		}
		c := l.src[l.pos]
		if c == '/' {
			l.advance(1)
			break
		}
		if c == '\\' && l.pos+1 < len(l.src) {
			if l.src[l.pos+1] == '/' {
				b.WriteByte('/')
			} else {
				b.WriteString(l.src[l.pos : l.pos+2])
			}
			l.advance(2)
			continue
		}
		b.WriteByte(c)
		l.advance(1)
	}
	t.kind, t.text, t.endCol = tRegex, b.String(), l.col-1
	return t, nil
}

func (l *lexer) lexNumber(t token) (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.advance(1)
	}
	float := false
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isDigit(c):
		case c == '.' && !float:
			float = true
		case (c == 'e' || c == 'E') && l.pos+1 < len(l.src) && (isDigit(l.src[l.pos+1]) || l.src[l.pos+1] == '-' || l.src[l.pos+1] == '+'):
			float = true
			l.advance(1)
		default:
			goto done
		}
		l.advance(1)
	}
done:
	t.kind, t.text = tInt, l.src[start:l.pos]
	if float {
		t.kind = tFloat
	}
	// A duration: digits followed by letters (24h, 1h30m, 1d).
	if l.pos < len(l.src) && isDurationLetter(l.src[l.pos]) {
		for l.pos < len(l.src) && (isDurationLetter(l.src[l.pos]) || isDigit(l.src[l.pos]) || l.src[l.pos] == '.') {
			l.advance(1)
		}
		t.kind, t.text = tDuration, l.src[start:l.pos]
	}
	t.endCol = l.col - 1
	return t, nil
}

func isDurationLetter(c byte) bool { return c >= 'a' && c <= 'z' && c != 'e' }
