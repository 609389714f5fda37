package json

import (
	"bytes"
	stdjson "encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzParse checks that Parse accepts exactly the objects encoding/json
// accepts, and that it decodes them to the same values once invalid UTF-8
// is replaced the way encoding/json does and integers are widened to float.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":"x\"y","b":[1,2.5,-3e4,true,false,null],"c":{"d":{}}}`,
		`{"a":"\ud83d\ude00\ud800\u00e9"}`, "{\"a\":\"\xff\"}", `[1]`, `"s"`, `{"a":1e400}`,
		`{"a":9223372036854775808}`, `{"a":1,"a":2}`, ` { "k" : -0.0e+1 } `, `{"a":}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		got, err := Parse(nil, in)
		if !bytes.Equal(in, orig) {
			t.Fatalf("Parse modified its input")
		}
		var want map[string]any
		stdErr := stdjson.Unmarshal(in, &want)
		valid := stdjson.Valid(in)
		isObject := valid && firstByte(in) == '{'
		if (err == nil) != isObject {
			t.Fatalf("Parse(%q) error %v, but encoding/json valid=%v object=%v", in, err, valid, isObject)
		}
		if err != nil || stdErr != nil {
			return // stdErr: a number out of float64 range, kept as text by Parse
		}
		ambiguous := false
		norm := normalize(event.Object(got), &ambiguous)
		if !ambiguous {
			testutil.Diff(t, want, norm)
		}
	})
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// normalize converts a parsed value to what encoding/json produces. It sets
// ambiguous when two distinct keys of an object become one after invalid
// UTF-8 is replaced: which one wins then depends on order, not on Parse.
func normalize(v event.Value, ambiguous *bool) any {
	switch v.Kind() {
	case event.KindString:
		return replaceInvalid(v.Str())
	case event.KindInt:
		i, _ := v.Int()
		return float64(i)
	case event.KindFloat:
		f, _ := v.Float()
		return f
	case event.KindObject:
		m := map[string]any{}
		for _, fl := range v.Fields() {
			k := replaceInvalid(fl.Key)
			if _, dup := m[k]; dup {
				*ambiguous = true
			}
			m[k] = normalize(fl.Value, ambiguous)
		}
		return m
	case event.KindArray:
		out := []any{}
		for _, e := range v.Array() {
			out = append(out, normalize(e, ambiguous))
		}
		return out
	}
	return v.Any()
}

// replaceInvalid replaces every invalid byte with U+FFFD, as encoding/json does.
func replaceInvalid(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += n
	}
	return string(b)
}
