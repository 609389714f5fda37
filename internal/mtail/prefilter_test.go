package mtail

import (
	"regexp/syntax"
	"slices"
	"testing"
)

func TestPrefilter(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string
	}{
		{`foo`, []string{"foo"}},
		{`^(?P<a>\d+) foo\/bar (\w+)`, []string{" foo/bar "}},
		{`bot|crawler|spider`, []string{"bot", "crawler", "spider"}},
		{`(GET|POST) /x`, []string{" /x"}},
		{`a|\d+`, nil},
		{`(?i)foo`, nil},
		{`x?yz`, []string{"yz"}},
		{`(ab)+c`, []string{"ab"}},
		{`a*`, nil},
		{``, nil},
	} {
		tree, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := prefilter(tree); !slices.Equal(got, tc.want) {
			t.Errorf("prefilter(%q) = %q, want %q", tc.re, got, tc.want)
		}
	}
}
