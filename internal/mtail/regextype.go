package mtail

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// capture typing, as mtail does it: syntactic, from the group's regex. A
// group that can only match digits (with optional sign characters, at
// least one digit, not a bare character class) is Int; digits with one
// '.' are Float; everything else is String.

// part classifies a piece of regex.
type part int

const (
	pNeutral part = iota // anchors, empty
	pSign                // only '-' or '+'
	pDot                 // a literal '.'
	pInt                 // digits
	pFloat               // digits and '.'
	pString
)

func captureType(re *syntax.Regexp) Type {
	if re.Op == syntax.OpCapture {
		return captureType(re.Sub[0])
	}
	if re.Op == syntax.OpCharClass {
		return String // (\d) is String, as in mtail
	}
	switch classify(re) {
	case pInt:
		return Int
	case pFloat:
		return Float
	}
	return String
}

func classify(re *syntax.Regexp) part {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return pNeutral
	case syntax.OpCapture:
		return classify(re.Sub[0])
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return pString
		}
		return classifyRunes(re.Rune)
	case syntax.OpCharClass:
		return classifyClass(re.Rune)
	case syntax.OpPlus, syntax.OpStar, syntax.OpQuest, syntax.OpRepeat:
		sub := classify(re.Sub[0])
		if sub == pDot && re.Op != syntax.OpQuest {
			return pString
		}
		return sub
	case syntax.OpConcat:
		return classifyConcat(re.Sub)
	case syntax.OpAlternate:
		t := pNeutral
		for _, s := range re.Sub {
			c := classify(s)
			if c == pSign || c == pDot || c == pNeutral {
				c = pString
			}
			if c > t {
				t = c
			}
		}
		return t
	}
	return pString
}

func classifyConcat(subs []*syntax.Regexp) part {
	ints, dots, floats := 0, 0, 0
	for _, s := range subs {
		switch classify(s) {
		case pString:
			return pString
		case pInt:
			ints++
		case pDot:
			dots++
		case pFloat:
			floats++
		}
	}
	switch {
	case ints+floats == 0:
		return pString
	case dots+floats == 0:
		return pInt
	case dots+floats == 1:
		return pFloat
	}
	return pString
}

func classifyRunes(rs []rune) part {
	digits, dots, signs := 0, 0, 0
	for _, r := range rs {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dots++
		case r == '-' || r == '+':
			signs++
		default:
			return pString
		}
	}
	switch {
	case digits == 0 && dots == 0:
		return pSign
	case digits == 0 && dots == 1 && signs == 0:
		return pDot
	case digits == 0:
		return pString
	case dots == 0:
		return pInt
	case dots == 1:
		return pFloat
	}
	return pString
}

// classifyClass: a class of digits is Int, digits and '.' Float, signs Sign.
func classifyClass(ranges []rune) part {
	digits, dot, sign := false, false, false
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		switch {
		case lo >= '0' && hi <= '9':
			digits = true
		case lo == '.' && hi == '.':
			dot = true
		case (lo == '-' || lo == '+') && hi == lo:
			sign = true
		default:
			return pString
		}
	}
	switch {
	case digits && dot:
		return pFloat
	case digits:
		return pInt
	case sign && !dot:
		return pSign
	}
	return pString
}

// prefilter returns literals of which every match must contain at least
// one (usually a single one), or nil when there are none worth testing.
// Lines containing none of them skip the regex: a substring search is far
// cheaper than a regex run, and most patterns fail on most lines.
func prefilter(re *syntax.Regexp) []string {
	lits := required(re)
	if len(lits) == 0 || len(lits) > 8 {
		return nil
	}
	for _, l := range lits {
		if l == "" || !utf8.ValidString(l) || (len(lits) > 1 && len(l) < 2) {
			return nil
		}
	}
	return lits
}

// score ranks a candidate set: the shortest literal's length, less for
// every extra alternative.
func score(lits []string) int {
	if len(lits) == 0 {
		return -1
	}
	m := len(lits[0])
	for _, l := range lits[1:] {
		m = min(m, len(l))
	}
	return m*4 - len(lits)
}

func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return []string{string(re.Rune)}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min > 0 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			lits := required(s)
			if lits == nil {
				return nil
			}
			out = append(out, lits...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	case syntax.OpConcat:
		// Adjacent literal pieces join into a longer required string.
		var best []string
		var run strings.Builder
		consider := func(c []string) {
			if score(c) > score(best) {
				best = c
			}
		}
		for _, s := range re.Sub {
			if s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0 {
				run.WriteString(string(s.Rune))
				continue
			}
			if run.Len() > 0 {
				consider([]string{run.String()})
				run.Reset()
			}
			consider(required(s))
		}
		if run.Len() > 0 {
			consider([]string{run.String()})
		}
		return best
	}
	return nil
}
