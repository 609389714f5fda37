package regex

import (
	"regexp"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzCompileNamedOnly checks that dropping unnamed captures changes
// nothing a parser sees: the same patterns compile, and the whole match and
// every named group match the same bytes as with regexp.Compile.
func FuzzCompileNamedOnly(f *testing.F) {
	f.Add(`(?P<a>\w+) (\d+|(x))(?i:(?P<b>y)+)`, []byte("abc 12 YyY"))
	f.Add(`((a)|b)*?(?P<c>c?)$`, []byte("ababc"))
	f.Add(`(?m)^(?:(x)|(?P<n>y))\b`, []byte("q\ny"))
	f.Add(`(`, []byte(""))
	f.Fuzz(func(t *testing.T, pattern string, line []byte) {
		want, err := regexp.Compile(pattern)
		got, gotErr := CompileNamedOnly(pattern)
		if (err == nil) != (gotErr == nil) {
			t.Fatalf("pattern %q: regexp.Compile error %v, CompileNamedOnly error %v", pattern, err, gotErr)
		}
		if err != nil {
			return
		}
		testutil.Diff(t, named(want, want.FindSubmatchIndex(line)), named(got, got.FindSubmatchIndex(line)))
	})
}

// named returns the whole match and the named groups' bounds, in order.
func named(re *regexp.Regexp, m []int) [][3]any {
	if m == nil {
		return nil
	}
	out := [][3]any{{"", m[0], m[1]}}
	for i, name := range re.SubexpNames() {
		if name != "" {
			out = append(out, [3]any{name, m[2*i], m[2*i+1]})
		}
	}
	return out
}
