// Package grok compiles grok patterns (`%{IP:client} %{WORD:method}`) to a
// Go regular expression whose captures become event fields.
//
// A reference is %{NAME}, %{NAME:field} or %{NAME:field:type}, where type
// is int/long, float/double, bool/boolean or string. NAME is looked up first
// in the caller's definitions, then in the standard pattern library that
// github.com/elastic/go-grok ships (the Logstash set, with ECS field names).
// The expander is our own: references are expanded recursively with cycle
// detection and a size limit, so no definition can loop or blow up, and
// field names may hold any characters (they are not regexp group names).
// Matching is unanchored; empty captures give no field, as in Logstash.
package grok

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/elastic/go-grok/patterns"

	"github.com/sluice-log/sluice/internal/parser/regex"
)

// Limits on expansion, to keep hostile or mistaken definitions cheap.
const (
	MaxExpandedSize = 256 << 10 // bytes of regular expression
	MaxDepth        = 64        // nested references
)

// groupPrefix names the regexp groups the expander makes for fields.
const groupPrefix = "sluicegrok"

// ErrPattern is wrapped by every error about a pattern or definition.
var ErrPattern = errors.New("bad grok pattern")

// library is the standard set of definitions, searched in order after the
// caller's own. Default comes first: the others build on it.
var library = []map[string]string{
	patterns.Default, patterns.Httpd, patterns.Syslog, patterns.Java, patterns.AWS,
	patterns.Bind9, patterns.Bro, patterns.Exim, patterns.HAProxy, patterns.Firewalls,
	patterns.Junos, patterns.Maven, patterns.MCollective, patterns.MongoDB,
	patterns.PostgreSQL, patterns.Rails, patterns.Redis, patterns.Ruby, patterns.Squid,
}

// Lookup returns the definition of a named pattern: from defs if present,
// else from the standard library.
func Lookup(defs map[string]string, name string) (string, bool) {
	if d, ok := defs[name]; ok {
		return d, true
	}
	for _, m := range library {
		if d, ok := m[name]; ok {
			return d, true
		}
	}
	return "", false
}

// Compile expands pattern with the extra definitions defs (which override
// the library's) and compiles it. The pattern must name at least one field.
func Compile(pattern string, defs map[string]string) (*regex.Parser, error) {
	for name := range defs {
		if !validName(name) {
			return nil, fmt.Errorf("%w: definition name %q must be letters, digits and _", ErrPattern, name)
		}
	}
	x := expander{defs: defs}
	if err := x.expand(pattern, 0); err != nil {
		return nil, err
	}
	re, err := regex.CompileNamedOnly(x.out.String())
	if err != nil {
		return nil, fmt.Errorf("%w: compiling expanded pattern: %w", ErrPattern, err)
	}
	caps := x.captures(re)
	if len(caps) == 0 {
		return nil, fmt.Errorf("%w: pattern names no field; write %%{NAME:field}", ErrPattern)
	}
	return regex.New(re, caps, false), nil
}

// field is one %{NAME:field:type} met while expanding, in group order.
type field struct {
	name string
	typ  regex.Type
}

type expander struct {
	defs   map[string]string
	out    strings.Builder
	fields []field
	stack  []string
}

// captures maps the compiled groups to fields: the expander's own groups by
// their number, and named groups written inline in a pattern ((?P<name>…),
// with "___" standing for "." as go-grok writes them) as string fields.
func (x *expander) captures(re *regexp.Regexp) []regex.Capture {
	var caps []regex.Capture
	for i, name := range re.SubexpNames() {
		if n, ok := strings.CutPrefix(name, groupPrefix); ok {
			if k, err := strconv.Atoi(n); err == nil && k < len(x.fields) {
				caps = append(caps, regex.Capture{Group: i, Field: x.fields[k].name, Type: x.fields[k].typ})
				continue
			}
		}
		if name != "" {
			caps = append(caps, regex.Capture{Group: i, Field: strings.ReplaceAll(name, "___", ".")})
		}
	}
	return caps
}

// expand writes text to x.out with every reference replaced by a group
// holding the referenced definition, itself expanded.
func (x *expander) expand(text string, depth int) error {
	for {
		i := strings.Index(text, "%{")
		if i < 0 {
			x.out.WriteString(text)
			return x.checkSize()
		}
		x.out.WriteString(text[:i])
		ref, rest, ok := reference(text[i+2:])
		if !ok {
			// %{2} and %{2,3} repeat a '%'; anything else is a mistake.
			if j := strings.IndexByte(text[i+2:], '}'); j >= 0 && isRepeat(text[i+2:i+2+j]) {
				x.out.WriteString(text[i : i+3+j])
				text = text[i+3+j:]
				continue
			}
			return fmt.Errorf("%w: malformed reference %q", ErrPattern, clip(text[i:]))
		}
		if err := x.reference(ref, depth); err != nil {
			return err
		}
		text = rest
	}
}

func (x *expander) checkSize() error {
	if x.out.Len() > MaxExpandedSize {
		return fmt.Errorf("%w: expands to more than %d bytes", ErrPattern, MaxExpandedSize)
	}
	return nil
}

// reference expands one parsed %{...}.
func (x *expander) reference(r ref, depth int) error {
	if depth >= MaxDepth {
		return fmt.Errorf("%w: references nested more than %d deep", ErrPattern, MaxDepth)
	}
	for _, s := range x.stack {
		if s == r.name {
			return fmt.Errorf("%w: %%{%s} refers to itself (via %s)", ErrPattern, r.name, strings.Join(x.stack, " → "))
		}
	}
	def, ok := Lookup(x.defs, r.name)
	if !ok {
		return fmt.Errorf("%w: unknown pattern %%{%s}", ErrPattern, r.name)
	}
	if r.field == "" {
		x.out.WriteString("(?:")
	} else {
		fmt.Fprintf(&x.out, "(?P<%s%d>", groupPrefix, len(x.fields))
		x.fields = append(x.fields, field{name: r.field, typ: r.typ})
	}
	x.stack = append(x.stack, r.name)
	if err := x.expand(def, depth+1); err != nil {
		return err
	}
	x.stack = x.stack[:len(x.stack)-1]
	x.out.WriteString(")")
	return x.checkSize()
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
