// Package regex turns the capturing groups of a regular expression (Go's
// RE2 syntax, package regexp) into event fields.
//
// A Parser holds the compiled expression and the list of groups that become
// fields, each with a name and a type to convert to. Compile makes every
// named group a string field; the grok package builds the list itself. The
// expression is unanchored, as with regexp.Match. Captured strings are
// zero-copy views of the line, so invalid UTF-8 is kept byte-exact.
package regex

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

// ErrNoMatch is returned for a line the expression does not match.
var ErrNoMatch = errors.New("pattern does not match")

// Type is what a captured string is converted to.
type Type uint8

// The types. A capture that does not convert is kept as a string.
const (
	TypeString Type = iota
	TypeInt
	TypeFloat
	TypeBool
)

// Capture makes one capturing group a field.
type Capture struct {
	// Group is the group's index in regexp.Regexp.SubexpNames.
	Group int
	// Field is the field name; it may hold any characters.
	Field string
	// Type is the conversion applied to the captured text.
	Type Type
}

// Parser extracts captures as fields. It is safe for concurrent use.
type Parser struct {
	re        *regexp.Regexp
	caps      []Capture
	keepEmpty bool
}

// Compile compiles pattern and makes each of its named groups a string
// field. Empty captures give empty strings; groups that did not take part
// in the match give no field. At least one named group is required.
func Compile(pattern string) (*Parser, error) {
	re, err := CompileNamedOnly(pattern)
	if err != nil {
		return nil, fmt.Errorf("compiling regex: %w", err)
	}
	var caps []Capture
	for i, name := range re.SubexpNames() {
		if name != "" {
			caps = append(caps, Capture{Group: i, Field: name})
		}
	}
	if len(caps) == 0 {
		return nil, errors.New("compiling regex: pattern has no named capture group (?P<name>...)")
	}
	return New(re, caps, true), nil
}

// CompileNamedOnly compiles pattern like regexp.Compile, but with its
// unnamed groups made non-capturing. They never become fields, and every
// capture slot costs time in the matcher, which copies slots between its
// threads: the standard grok patterns have dozens of such groups.
func CompileNamedOnly(pattern string) (*regexp.Regexp, error) {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(uncapture(tree).String())
}

// uncapture replaces every unnamed capture in tree by its contents.
func uncapture(tree *syntax.Regexp) *syntax.Regexp {
	for i, sub := range tree.Sub {
		tree.Sub[i] = uncapture(sub)
	}
	if tree.Op == syntax.OpCapture && tree.Name == "" {
		return tree.Sub[0]
	}
	return tree
}

// New returns a parser for re with an explicit list of captures. With
// keepEmpty false, captures that matched the empty string give no field.
func New(re *regexp.Regexp, caps []Capture, keepEmpty bool) *Parser {
	return &Parser{re: re, caps: caps, keepEmpty: keepEmpty}
}

// Fields returns the field names, in group order; a name may repeat.
func (p *Parser) Fields() []string {
	out := make([]string, len(p.caps))
	for i, c := range p.caps {
		out[i] = c.Field
	}
	return out
}

// Regexp returns the compiled expression.
func (p *Parser) Regexp() *regexp.Regexp { return p.re }

// Parse appends the captures of the first match in line to dst. When a
// field name repeats, the last group that took part in the match wins. On
// no match it returns dst and ErrNoMatch.
func (p *Parser) Parse(dst event.Fields, line []byte) (event.Fields, error) {
	m := p.re.FindSubmatchIndex(line)
	if m == nil {
		return dst, ErrNoMatch
	}
	start := len(dst)
	for _, c := range p.caps {
		lo, hi := m[2*c.Group], m[2*c.Group+1]
		if lo < 0 || (hi == lo && !p.keepEmpty) {
			continue
		}
		s := parser.View(line[lo:hi])
		dst = append(dst, event.Field{Key: c.Field, Value: convert(s, c.Type)})
	}
	return parser.Unique(dst, start), nil
}

// convert applies a capture's type, keeping s as a string when it does not
// convert (or converts to an infinity or NaN). An integer capture written as a decimal ("1.9") is truncated.
func convert(s string, t Type) event.Value {
	switch t {
	case TypeInt:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return event.Int(i)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= math.MinInt64 && f < math.MaxInt64 {
			return event.Int(int64(f))
		}
	case TypeFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return event.Float(f)
		}
	case TypeBool:
		if b, err := strconv.ParseBool(s); err == nil {
			return event.Bool(b)
		}
	}
	return event.String(s)
}
