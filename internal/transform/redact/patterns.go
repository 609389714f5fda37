package redact

import (
	"regexp"
	"strings"
)

// span is one match: s[start:end] found by pattern pat.
type span struct{ start, end, pat int }

// pattern is one thing to find. maybe is its prefilter: a cheap test that
// is true whenever find could find something, so most text never reaches
// find (and never a regex).
type pattern struct {
	name        string
	index       int
	replacement string // with {pattern} filled in
	maybe       func(s string) bool
	find        func(s string, pat int, dst []span) []span
}

func builtin(name string) (*pattern, bool) {
	p := &pattern{name: name}
	switch name {
	case Email:
		p.maybe = func(s string) bool { return strings.IndexByte(s, '@') > 0 }
		p.find = findEmails
	case IPv4:
		p.maybe = func(s string) bool { return strings.IndexByte(s, '.') > 0 }
		p.find = findIPv4
	case IPv6:
		p.maybe = hasTwoColons
		p.find = findIPv6
	case CreditCard:
		p.maybe = func(s string) bool { return hasDigitRun(s, 13) }
		p.find = findCards
	case BearerToken:
		p.maybe = maybeToken
		p.find = findTokens
	default:
		return nil, false
	}
	return p, true
}

// tokenShapes are API credentials recognisable by their shape: JWTs,
// GitHub, Slack and Stripe-style tokens, AWS access key IDs and sk- keys.
// Each regex starts with its literal anchor, so regexp skips to it with a
// substring search, and only runs when the anchor is in the text at all.
var tokenShapes = []struct {
	anchor string
	re     *regexp.Regexp
}{
	{"eyJ", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)},
	{"gh", regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{36,}\b`)},
	{"xox", regexp.MustCompile(`xox[abprs]-[A-Za-z0-9-]{10,}`)},
	{"AKIA", regexp.MustCompile(`AKIA[0-9A-Z]{16}\b`)},
	{"ASIA", regexp.MustCompile(`ASIA[0-9A-Z]{16}\b`)},
	{"k_live_", regexp.MustCompile(`[sprk]k_live_[A-Za-z0-9]{16,}\b`)},
	{"k_test_", regexp.MustCompile(`[sprk]k_test_[A-Za-z0-9]{16,}\b`)},
	{"sk-", regexp.MustCompile(`sk-[A-Za-z0-9_-]{20,}\b`)},
}

func maybeToken(s string) bool {
	for _, ts := range tokenShapes {
		if strings.Contains(s, ts.anchor) {
			return true
		}
	}
	return indexFold(s, "bearer") >= 0
}

// findTokens appends the credentials after a "Bearer" word and the
// token shapes that start a word.
func findTokens(s string, pat int, dst []span) []span {
	dst = findBearer(s, pat, dst)
	for _, ts := range tokenShapes {
		if !strings.Contains(s, ts.anchor) {
			continue
		}
		for _, m := range ts.re.FindAllStringIndex(s, -1) {
			if m[0] == 0 || !isAlnum(s[m[0]-1]) {
				dst = append(dst, span{start: m[0], end: m[1], pat: pat})
			}
		}
	}
	return dst
}

// findBearer finds "bearer" (any case, as a word), white space, and a
// token of at least 8 characters of the RFC 6750 token alphabet; the
// token is the span.
func findBearer(s string, pat int, dst []span) []span {
	for from := 0; ; {
		i := indexFold(s[from:], "bearer")
		if i < 0 {
			return dst
		}
		i += from
		from = i + len("bearer")
		if i > 0 && isAlnum(s[i-1]) {
			continue
		}
		j := from
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		k := j
		for k < len(s) && isTokenChar(s[k]) {
			k++
		}
		if j == from || k-j < 8 {
			continue
		}
		for k < len(s) && s[k] == '=' {
			k++
		}
		dst = append(dst, span{start: j, end: k, pat: pat})
		from = k
	}
}

func isTokenChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '~' || c == '+' || c == '/'
}

// indexFold returns the index of the lowercase ASCII word w in s, in any
// case, or -1, without allocating. It jumps between the candidates for
// w's first letter with IndexByte.
func indexFold(s, w string) int {
	lo, up := w[0], w[0]&^0x20
	for i := 0; i+len(w) <= len(s); i++ {
		n := indexEither(s[i:len(s)-len(w)+1], lo, up)
		if n < 0 {
			return -1
		}
		i += n
		j := 1
		for j < len(w) && s[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return i
		}
	}
	return -1
}

// indexEither is the first index in s of a or b, or -1.
func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if i < 0 {
		return strings.IndexByte(s, b)
	}
	if j := strings.IndexByte(s[:i], b); j >= 0 {
		return j
	}
	return i
}

// regexPattern is a custom pattern. Its prefilter is the regex's literal
// prefix when it has one.
func regexPattern(name string, re *regexp.Regexp) *pattern {
	p := &pattern{name: name, maybe: func(string) bool { return true }}
	if lit, _ := re.LiteralPrefix(); lit != "" {
		p.maybe = func(s string) bool { return strings.Contains(s, lit) }
	}
	p.find = func(s string, pat int, dst []span) []span { return findRegex(re, s, pat, dst) }
	return p
}

// findRegex appends re's matches in s, each narrowed to its first group
// when that group took part in the match.
func findRegex(re *regexp.Regexp, s string, pat int, dst []span) []span {
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[0], m[1]
		if len(m) >= 4 && m[2] >= 0 {
			start, end = m[2], m[3]
		}
		if end > start {
			dst = append(dst, span{start: start, end: end, pat: pat})
		}
	}
	return dst
}
