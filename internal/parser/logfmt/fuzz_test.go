package logfmt

import (
	"bytes"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzParse checks that Parse never panics or modifies its input, that
// every key it returns is well-formed, and that encoding its result and
// parsing that again gives the same fields.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`a=1 b="two words" c`, `msg="\"q\" \\ \u00e9\ud800"`, `=x`, `a="x`, `a="x"y`,
		"k\xff=\xfe", `url=/x?y=z`, `a= b=""`, `a="\`, `x="\u12"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		got, err := Parse(nil, in)
		if !bytes.Equal(in, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			return
		}
		for _, fl := range got {
			if !validKey(fl.Key) {
				t.Fatalf("Parse(%q) returned bad key %q", in, fl.Key)
			}
		}
		again, err := Parse(nil, encode(got))
		if err != nil {
			t.Fatalf("re-parsing %q: %v", encode(got), err)
		}
		testutil.Diff(t, got, again, valueOpt)
	})
}

// FuzzRoundTrip checks that any key and value survive encoding and parsing.
func FuzzRoundTrip(f *testing.F) {
	f.Add("msg", "hello world")
	f.Add("k", `"quoted" \ value`)
	f.Add("k", "\xff\x00\n")
	f.Fuzz(func(t *testing.T, key, value string) {
		if !validKey(key) {
			return
		}
		want := event.Fields{{Key: key, Value: event.String(value)}, {Key: "z", Value: event.Bool(true)}}
		if key == "z" {
			want = want[:1]
		}
		got, err := Parse(nil, encode(want))
		if err != nil {
			t.Fatalf("parsing %q: %v", encode(want), err)
		}
		testutil.Diff(t, want, got, valueOpt)
	})
}
