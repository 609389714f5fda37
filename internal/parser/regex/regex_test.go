package regex

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func sf(k, v string) event.Field { return event.Field{Key: k, Value: event.String(v)} }

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pattern, in string
		want              event.Fields
	}{
		{name: "named groups", pattern: `(?P<client>\S+) (\w+) (?<path>/\S*)`, in: `1.2.3.4 GET /x y`,
			want: event.Fields{sf("client", "1.2.3.4"), sf("path", "/x")}},
		{name: "unanchored", pattern: `id=(?P<id>\d+)`, in: `prefix id=42 suffix`,
			want: event.Fields{sf("id", "42")}},
		{name: "non-participating group omitted, empty kept", pattern: `(?P<a>x)?(?P<b>y*)z`, in: `z`,
			want: event.Fields{sf("b", "")}},
		{name: "repeated name: last participant wins", pattern: `(?P<v>a)(?P<w>b)(?P<v>c)?`, in: `abc`,
			want: event.Fields{sf("v", "c"), sf("w", "b")}},
		{name: "repeated name, later one not taking part", pattern: `(?P<v>a)(?P<v>c)?`, in: `ab`,
			want: event.Fields{sf("v", "a")}},
		{name: "invalid UTF-8 kept byte-exact", pattern: `k=(?P<k>\S+)`, in: "k=\xff\xfeA",
			want: event.Fields{sf("k", "\xff\xfeA")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Parse(nil, []byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			testutil.Diff(t, tc.want, got, valueOpt)
		})
	}
}

func TestNoMatch(t *testing.T) {
	t.Parallel()
	p, err := Compile(`^(?P<n>\d+)$`)
	if err != nil {
		t.Fatal(err)
	}
	keep := event.Fields{sf("old", "1")}
	got, err := p.Parse(keep, []byte("12a"))
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("err = %v, want ErrNoMatch", err)
	}
	testutil.Diff(t, keep, got, valueOpt)
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, pattern, want string }{
		{name: "syntax", pattern: `(?P<a>x`, want: "compiling regex: error parsing regexp: missing closing )"},
		{name: "no named group", pattern: `(\d+) (x)`, want: "has no named capture group"},
		{name: "bad group name", pattern: `(?P<a-b>x)`, want: "invalid named capture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.pattern)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%q) error %v, want it to contain %q", tc.pattern, err, tc.want)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`(\S*) (\S*) (\S*)`)
	p := New(re, []Capture{{1, "i", TypeInt}, {2, "f", TypeFloat}, {3, "b", TypeBool}}, false)
	for _, tc := range []struct {
		in   string
		want event.Fields
	}{
		{in: "42 1.5 true", want: event.Fields{{Key: "i", Value: event.Int(42)},
			{Key: "f", Value: event.Float(1.5)}, {Key: "b", Value: event.Bool(true)}}},
		{in: "-1.9 7 0", want: event.Fields{{Key: "i", Value: event.Int(-1)},
			{Key: "f", Value: event.Float(7)}, {Key: "b", Value: event.Bool(false)}}},
		{in: "x 1e999 maybe", want: event.Fields{sf("i", "x"), sf("f", "1e999"), sf("b", "maybe")}},
		{in: "99999999999999999999 NaN T", want: event.Fields{sf("i", "99999999999999999999"),
			sf("f", "NaN"), {Key: "b", Value: event.Bool(true)}}},
		{in: "  ", want: nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := p.Parse(nil, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, got, valueOpt)
		})
	}
}
