package grok

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

const accessLine = `203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET /index.html?q=1 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`

// BenchmarkCompile measures compiling a large library pattern.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(`%{COMBINEDAPACHELOG}`, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures matching grok patterns against an access-log
// line, anchored and not.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, pattern string }{
		{"combined", `%{COMBINEDAPACHELOG}`},
		{"combined_anchored", `^%{COMBINEDAPACHELOG}`},
		{"simple_anchored", `^%{IPORHOST:client} %{USER:ident} %{USER:user} \[%{HTTPDATE:time}\] "%{WORD:method} %{NOTSPACE:path} HTTP/%{NUMBER:version}" %{INT:status:int} %{INT:size:int}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := Compile(bc.pattern, nil)
			if err != nil {
				b.Fatal(err)
			}
			line := []byte(accessLine)
			var f event.Fields
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if f, err = p.Parse(f[:0], line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
