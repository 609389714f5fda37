package json

import (
	stdjson "encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		want event.Fields
	}{
		{name: "scalars", in: `{"s":"x","i":42,"neg":-7,"f":1.5,"t":true,"no":false,"nul":null}`,
			want: event.Fields{
				{Key: "s", Value: event.String("x")}, {Key: "i", Value: event.Int(42)},
				{Key: "neg", Value: event.Int(-7)}, {Key: "f", Value: event.Float(1.5)},
				{Key: "t", Value: event.Bool(true)}, {Key: "no", Value: event.Bool(false)},
				{Key: "nul", Value: event.Null()},
			}},
		{name: "empty object", in: ` {} `, want: nil},
		{name: "whitespace everywhere", in: "\t{ \"a\" :\r\n1 , \"b\":[ 1 , 2 ] }\n",
			want: event.Fields{{Key: "a", Value: event.Int(1)},
				{Key: "b", Value: event.Array([]event.Value{event.Int(1), event.Int(2)})}}},
		{name: "nested", in: `{"http":{"status":200,"tags":["a",{"b":null}],"empty":{},"none":[]}}`,
			want: event.Fields{{Key: "http", Value: event.Object(event.Fields{
				{Key: "status", Value: event.Int(200)},
				{Key: "tags", Value: event.Array([]event.Value{event.String("a"),
					event.Object(event.Fields{{Key: "b", Value: event.Null()}})})},
				{Key: "empty", Value: event.Object(event.Fields{})},
				{Key: "none", Value: event.Array([]event.Value{})},
			})}}},
		{name: "escapes", in: `{"s":"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00","k\u0041":1}`,
			want: event.Fields{{Key: "s", Value: event.String("q\"b\\s/\b\f\n\r\té😀")},
				{Key: "kA", Value: event.Int(1)}}},
		{name: "lone surrogates become U+FFFD", in: `{"s":"\ud800x\udc00\ud800\u0041"}`,
			want: event.Fields{{Key: "s", Value: event.String("\uFFFDx\uFFFD\uFFFDA")}}},
		{name: "invalid UTF-8 kept byte-exact", in: "{\"s\xff\":\"a\xc3\x28b\"}",
			want: event.Fields{{Key: "s\xff", Value: event.String("a\xc3\x28b")}}},
		{name: "invalid UTF-8 next to an escape", in: "{\"s\":\"\xfe\\n\xff\"}",
			want: event.Fields{{Key: "s", Value: event.String("\xfe\n\xff")}}},
		{name: "number kinds", in: `{"a":-0,"b":1e2,"c":1E-2,"d":9223372036854775807,"e":-9223372036854775808,"f":9223372036854775808,"g":1e400,"h":0.0}`,
			want: event.Fields{
				{Key: "a", Value: event.Int(0)}, {Key: "b", Value: event.Float(100)},
				{Key: "c", Value: event.Float(0.01)}, {Key: "d", Value: event.Int(9223372036854775807)},
				{Key: "e", Value: event.Int(-9223372036854775808)}, {Key: "f", Value: event.Float(9223372036854775808)},
				{Key: "g", Value: event.String("1e400")}, {Key: "h", Value: event.Float(0)},
			}},
		{name: "duplicate keys: last wins in first position", in: `{"a":1,"b":2,"a":3,"c":{"x":1,"x":"y"}}`,
			want: event.Fields{{Key: "a", Value: event.Int(3)}, {Key: "b", Value: event.Int(2)},
				{Key: "c", Value: event.Object(event.Fields{{Key: "x", Value: event.String("y")}})}}},
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
		{name: "empty", in: "", want: "unexpected end of input at offset 0"},
		{name: "blank", in: "  ", want: "unexpected end of input at offset 2"},
		{name: "array", in: "[1]", want: ErrNotObject.Error()},
		{name: "string", in: `"x"`, want: ErrNotObject.Error()},
		{name: "number then junk", in: `1 x`, want: "invalid character 'x' after top-level value at offset 2"},
		{name: "missing value", in: `{"a":}`, want: "invalid character '}' at offset 5"},
		{name: "trailing comma", in: `{"a":1,}`, want: "invalid character '}' at offset 7"},
		{name: "bare key", in: `{a:1}`, want: "invalid character 'a' at offset 1"},
		{name: "trailing data", in: `{"a":1} x`, want: "invalid character 'x' after top-level value at offset 8"},
		{name: "two objects", in: `{}{}`, want: "invalid character '{' after top-level value at offset 2"},
		{name: "control character", in: "{\"a\":\"x\ny\"}", want: `invalid control character '\n' in string at offset 7`},
		{name: "truncated string", in: `{"a":"xy`, want: "unexpected end of input at offset 8"},
		{name: "truncated object", in: `{"a":1`, want: "unexpected end of input at offset 6"},
		{name: "leading zero", in: `{"a":01}`, want: "invalid character '1' at offset 6"},
		{name: "lone minus", in: `{"a":-}`, want: "invalid character '}' at offset 6"},
		{name: "dot without digits", in: `{"a":1.}`, want: "invalid character '}' at offset 7"},
		{name: "leading dot", in: `{"a":.5}`, want: "invalid character '.' at offset 5"},
		{name: "empty exponent", in: `{"a":1e}`, want: "invalid character '}' at offset 7"},
		{name: "bad literal", in: `{"a":tru}`, want: "invalid character '}' at offset 8"},
		{name: "bad escape", in: `{"a":"\x"}`, want: `invalid escape character 'x' at offset 7`},
		{name: "short unicode escape", in: `{"a":"\u12"}`, want: `invalid \u escape at offset 8`},
		{name: "missing colon", in: `{"a" 1}`, want: "invalid character '1' at offset 5"},
		{name: "unclosed array", in: `{"a":[1 2]}`, want: "invalid character '2' at offset 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if stdjson.Valid([]byte(tc.in)) && !strings.HasPrefix(tc.want, "top-level") {
				t.Fatalf("test case %q is valid JSON", tc.in)
			}
			keep := event.Fields{{Key: "old", Value: event.Int(1)}}
			got, err := Parse(keep, []byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, got)
			}
			testutil.Diff(t, tc.want, err.Error())
			testutil.Diff(t, keep, got, valueOpt)
		})
	}
}

func TestParseAppendsToDst(t *testing.T) {
	t.Parallel()
	dst := event.Fields{{Key: "a", Value: event.Int(1)}}
	got, err := Parse(dst, []byte(`{"b":2,"b":3}`))
	if err != nil {
		t.Fatal(err)
	}
	want := event.Fields{{Key: "a", Value: event.Int(1)}, {Key: "b", Value: event.Int(3)}}
	testutil.Diff(t, want, got, valueOpt)
}

func TestMaxDepthMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, depth := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		in := `{"a":` + strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1) + "}"
		_, err := Parse(nil, []byte(in))
		if got, want := err == nil, stdjson.Valid([]byte(in)); got != want {
			t.Errorf("depth %d: accepted=%v, encoding/json valid=%v (err %v)", depth, got, want, err)
		}
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("depth %d: error %T is not a *SyntaxError", depth, err)
		}
	}
}

func TestUnescapedObjectDoesNotAllocate(t *testing.T) {
	in := []byte(`{"key":"value"}`)
	got, err := Parse(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { got, _ = Parse(got[:0], in) }); n != 0 {
		t.Errorf("Parse of an unescaped object allocates %v times, want 0", n)
	}
}
