package logfmt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func str(k, v string) event.Field { return event.Field{Key: k, Value: event.String(v)} }

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want event.Fields
	}{
		{name: "pairs", in: `level=info msg="hello world" n=42`,
			want: event.Fields{str("level", "info"), str("msg", "hello world"), str("n", "42")}},
		{name: "bare key is true", in: `flag a=1 other`,
			want: event.Fields{{Key: "flag", Value: event.Bool(true)}, str("a", "1"), {Key: "other", Value: event.Bool(true)}}},
		{name: "empty values", in: `a= b="" c`,
			want: event.Fields{str("a", ""), str("b", ""), {Key: "c", Value: event.Bool(true)}}},
		{name: "escapes", in: `msg="quoted \" value \\ \n\t\u00e9\ud83d\ude00" x=y`,
			want: event.Fields{str("msg", "quoted \" value \\ \n\té😀"), str("x", "y")}},
		{name: "unknown escapes kept", in: `a="\x \u12 \q"`, want: event.Fields{str("a", `\x \u12 \q`)}},
		{name: "lone surrogate", in: `a="\ud800z"`, want: event.Fields{str("a", "\uFFFDz")}},
		{name: "equals and quotes inside unquoted value", in: `url=/a?b=c&d="e" x=1`,
			want: event.Fields{str("url", `/a?b=c&d="e"`), str("x", "1")}},
		{name: "whitespace runs", in: "  a=1\t\tb=2 \r\n",
			want: event.Fields{str("a", "1"), str("b", "2")}},
		{name: "duplicates last wins", in: `a=1 b=2 a=3`,
			want: event.Fields{str("a", "3"), str("b", "2")}},
		{name: "empty line", in: ``, want: nil},
		{name: "blank line", in: " \t ", want: nil},
		{name: "invalid UTF-8 kept byte-exact", in: "k\xff=v\xfe q=\"\xc3\x28\\n\"",
			want: event.Fields{str("k\xff", "v\xfe"), str("q", "\xc3\x28\n")}},
		{name: "unicode keys", in: `clé=valeur`, want: event.Fields{str("clé", "valeur")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(nil, []byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			testutil.Diff(t, tc.want, got, valueOpt)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "missing key", in: `a=1 =2`, want: "missing key before '=' at offset 4"},
		{name: "unterminated quote", in: `a="abc`, want: "unterminated quoted value at offset 6"},
		{name: "unterminated after escape", in: `a="abc\"`, want: "unterminated quoted value at offset 8"},
		{name: "junk after quote", in: `a="x"y`, want: `unexpected 'y' after quoted value at offset 5`},
		{name: "quote in key", in: `a"b=1`, want: `unexpected '"' in key at offset 1`},
		{name: "quoted key", in: `"a"=1`, want: `unexpected '"' in key at offset 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keep := event.Fields{str("old", "1")}
			got, err := Parse(keep, []byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, got)
			}
			testutil.Diff(t, tc.want, err.Error())
			testutil.Diff(t, keep, got, valueOpt)
		})
	}
}

func TestUnquotedLineDoesNotAllocate(t *testing.T) {
	in := []byte(`ts=2024-01-02T03:04:05Z level=info msg="request done" status=200 dur=1.5ms`)
	var f event.Fields
	if n := testing.AllocsPerRun(100, func() { f, _ = Parse(f[:0], in) }); n != 0 {
		t.Errorf("Parse allocates %v times, want 0", n)
	}
}

// encode writes fields as logfmt in the form Parse reads back.
func encode(f event.Fields) []byte {
	var b bytes.Buffer
	for i, fl := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.Key)
		if fl.Value.Kind() == event.KindBool {
			continue
		}
		b.WriteByte('=')
		v := fl.Value.Str()
		if !needsQuotes(v) {
			b.WriteString(v)
			continue
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
		b.WriteByte('"')
	}
	return b.Bytes()
}

func needsQuotes(v string) bool {
	if strings.HasPrefix(v, `"`) {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' {
			return true
		}
	}
	return false
}

func validKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, `="`) && !needsQuotes(k)
}
