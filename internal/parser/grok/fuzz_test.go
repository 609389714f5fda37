package grok

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser/regex"
)

// FuzzCompileMatch compiles arbitrary patterns with an arbitrary extra
// definition and matches the result against an arbitrary line. Compile must
// fail with ErrPattern or succeed; Parse must not panic or modify the line,
// and every string it returns must be a view of the line.
func FuzzCompileMatch(f *testing.F) {
	f.Add(`%{IP:client} %{WORD:method} %{X:x:int}`, `%{INT}|-`, []byte("1.2.3.4 GET 12"))
	f.Add(`%{X:a}`, `%{X}`, []byte("a"))
	f.Add(`%{COMBINEDAPACHELOG}`, ``, []byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "-"`))
	f.Add(`(?P<a___b>x)%{2}%{X:y:float}`, `\d+(\.\d+)?`, []byte("x%%1.5"))
	f.Add(`%{X:a`, `(`, []byte(""))
	f.Fuzz(func(t *testing.T, pattern, def string, line []byte) {
		p, err := Compile(pattern, map[string]string{"X": def})
		if err != nil {
			if !errors.Is(err, ErrPattern) {
				t.Fatalf("Compile(%q) error %v does not wrap ErrPattern", pattern, err)
			}
			return
		}
		orig := bytes.Clone(line)
		got, err := p.Parse(nil, line)
		if !bytes.Equal(line, orig) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			if !errors.Is(err, regex.ErrNoMatch) || got != nil {
				t.Fatalf("Parse error %v with fields %v", err, got)
			}
			return
		}
		for _, fl := range got {
			if fl.Value.Kind() == event.KindString && !within(line, fl.Value.Str()) {
				t.Fatalf("field %s=%q is not a view of the line", fl.Key, fl.Value.Str())
			}
		}
	})
}

func within(line []byte, s string) bool {
	if s == "" {
		return true
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	return p >= base && p+uintptr(len(s)) <= base+uintptr(len(line))
}
