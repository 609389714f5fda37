package rules

import (
	"bytes"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// prefilter is a cheap test run before a rule's regex: literals of which
// every match of the regex contains at least one, found in the regex's
// syntax tree at load. A text containing none of them cannot match, and a
// bytes.Index scan (SIMD-assisted) is ten to a hundred times cheaper than
// running the regex. Most lines of a log match few of many rules, so most
// regex runs end here. A text that passes still runs the regex.
type prefilter struct {
	any []literal
}

// literal is one literal and its rarest byte, by a rough frequency of
// bytes in logs: the scan looks for that byte (IndexByte, vectorized) and
// checks the literal around it, so a literal such as " /api/v1/orders/"
// is not looked for at every space of the line.
type literal struct {
	text []byte
	off  int // offset of the rarest byte in text
}

// maxAlternatives bounds the literals of one prefilter: past that, testing
// them all costs about what the regex does.
const maxAlternatives = 8

// newPrefilter returns the prefilter of expr, or nil when no literal of at
// least two bytes is required by every match (then the regex runs alone).
func newPrefilter(expr string) *prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	lits, ok := required(re.Simplify())
	if !ok || shortest(lits) < 2 {
		return nil
	}
	p := &prefilter{}
	for _, l := range lits {
		lit := literal{text: []byte(l)}
		for i := range len(l) {
			if byteRank(l[i]) < byteRank(l[lit.off]) {
				lit.off = i
			}
		}
		p.any = append(p.any, lit)
	}
	return p
}

// mayMatch reports whether text contains one of the literals.
func (p *prefilter) mayMatch(text []byte) bool {
	for _, l := range p.any {
		if l.in(text) {
			return true
		}
	}
	return false
}

func (l literal) in(text []byte) bool {
	c, n := l.text[l.off], len(l.text)
	for from := l.off; from < len(text); {
		i := bytes.IndexByte(text[from:], c)
		if i < 0 {
			return false
		}
		start := from + i - l.off
		if start+n > len(text) {
			return false
		}
		if bytes.Equal(text[start:start+n], l.text) {
			return true
		}
		from += i + 1
	}
	return false
}

// byteRank is how common b is in log lines, roughly: spaces, digits,
// lower-case letters and the punctuation of paths, dates and addresses
// most, upper-case letters less, other bytes least.
func byteRank(b byte) int {
	switch {
	case b == ' ' || b == '"' || b == '/' || b == '.' || b == ':' || b == '-' || b == '=' || (b >= '0' && b <= '9'):
		return 4
	case strings.IndexByte("etaoinsrhlcdu", b) >= 0:
		return 3
	case b >= 'a' && b <= 'z':
		return 2
	case b >= 'A' && b <= 'Z':
		return 1
	}
	return 0
}

// required returns literals one of which is in every match of re, or false
// when it cannot tell. Of several candidates (the parts of a
// concatenation), it keeps the one whose shortest literal is longest: the
// most selective.
func required(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		// U+FFFD in a regex also matches invalid UTF-8 in the text, which
		// does not contain its encoding.
		if re.Flags&syntax.FoldCase != 0 || slices.Contains(re.Rune, utf8.RuneError) {
			return nil, false
		}
		return []string{runesString(re.Rune)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil, false
		}
		return required(re.Sub[0])
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if lits, ok := required(sub); ok && (best == nil || shortest(lits) > shortest(best)) {
				best = lits
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits, ok := required(sub)
			if !ok {
				return nil, false
			}
			all = append(all, lits...)
		}
		return all, len(all) <= maxAlternatives
	}
	return nil, false
}

func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

func runesString(rs []rune) string {
	b := make([]byte, 0, len(rs))
	for _, r := range rs {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// prepare finishes a compiled rule: the regex's prefilter, and whether
// the submatch positions are needed at all (a rule whose value, labels
// and exemplar use no capture runs the cheaper Match).
func (r *rule) prepare() {
	if r.re == nil {
		return
	}
	r.pre = newPrefilter(r.re.String())
	r.subs = r.value.capture > 0
	for _, l := range append(r.labels[:len(r.labels):len(r.labels)], r.exemplar...) {
		r.subs = r.subs || l.capture > 0
	}
}
