package rules

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestPrefilterLiterals(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []string // nil: no prefilter
	}{
		{name: "plain literal", expr: `Googlebot`, want: []string{"Googlebot"}},
		{name: "literal inside", expr: `"(PUT|DELETE) \/api`, want: []string{" /api"}},
		{name: "longest part of a concatenation", expr: `\d+ failed login from \S+`, want: []string{" failed login from "}},
		{name: "alternatives", expr: `(Windows NT|Macintosh)`, want: []string{"Windows NT", "Macintosh"}},
		{name: "capture and plus", expr: `x(?P<a>(abc)+)y`, want: []string{"abc"}},
		{name: "anchored", expr: `^10\.0\.0\.\d+ `, want: []string{"10.0.0."}},
		{name: "optional part is not required", expr: `(error)?\d+`},
		{name: "repeat from zero", expr: `(error){0,3}\d`},
		{name: "case folding", expr: `(?i)error`},
		{name: "one byte is not worth it", expr: `a\d`},
		{name: "an alternative without a literal", expr: `(GET|\d+)`},
		{name: "U+FFFD also matches invalid UTF-8", expr: `\x{FFFD}abc`},
		{name: "only U+FFFD", expr: `x\x{FFFD}y`},
		{name: "too many alternatives", expr: `(aa|bb|cc|dd|ee|ff|gg|hh|ii)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if p := newPrefilter(tc.expr); p != nil {
				for _, l := range p.any {
					got = append(got, string(l.text))
				}
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

// FuzzPrefilter checks the one property that matters: a text the regex
// matches always passes the prefilter.
func FuzzPrefilter(f *testing.F) {
	for _, s := range [][2]string{
		{`"(PUT|DELETE) \/api`, `"PUT /api/v1`},
		{`(Windows NT|Macintosh)`, "Mozilla (Macintosh; x)"},
		{`\x{FFFD}abc`, "\xffabc"},
		{`x(?P<a>(abc)+)y\d{2,}`, "xabcabcy12"},
		{`(?i)ERROR`, "error"},
		{`[ab]c|d(ef)+`, "bc"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, expr, text string) {
		re, err := regexp.Compile(expr)
		if err != nil || len(expr) > 200 {
			return
		}
		p := newPrefilter(re.String())
		for _, l := range p.literals() {
			if got, want := l.in([]byte(text)), bytes.Contains([]byte(text), l.text); got != want {
				t.Errorf("literal %q in %q: %v, bytes.Contains says %v", l.text, text, got, want)
			}
		}
		if p != nil && re.MatchString(text) && !p.mayMatch([]byte(text)) {
			var lits []string
			for _, l := range p.any {
				lits = append(lits, string(l.text))
			}
			t.Errorf("%q matches %q, but the prefilter (%s) refused it", expr, text, strings.Join(lits, " | "))
		}
	})
}

func (p *prefilter) literals() []literal {
	if p == nil {
		return nil
	}
	return p.any
}
