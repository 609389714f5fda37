package syslog

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

var benchLines = []struct{ name, line string }{
	{"rfc5424", `<13>1 2026-11-22T03:23:15.369816+00:00 benchhost synsend 4242 - - seq=0000000001 ` + strings.Repeat("x", 120)},
	{"rfc5424_sd", `<13>1 2026-11-22T03:23:15.381140+00:00 vm TAG - ID [timeQuality tzKnown="1" isSynced="0"][x@32473 k="v\]q"] ` + strings.Repeat("x", 100)},
	{"rfc3164", `<13>Nov 22 02:33:01 benchhost synsend[4242]: seq=0000000001 ` + strings.Repeat("x", 140)},
}

func BenchmarkParse(b *testing.B) {
	now := time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)
	for _, bc := range benchLines {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.line)
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if !Parse(in, &m, time.UTC, now) {
					b.Fatal("no parse")
				}
			}
		})
	}
}

// BenchmarkReader measures framing alone over 200-byte lines, both framings.
func BenchmarkReader(b *testing.B) {
	line := benchLines[2].line
	for _, octet := range []bool{false, true} {
		name := "lf"
		if octet {
			name = "octet"
		}
		b.Run(name, func(b *testing.B) {
			var stream []byte
			for range 1000 {
				if octet {
					stream = append(stream, []byte(itoa(len(line))+" "+line)...)
				} else {
					stream = append(stream, line+"\n"...)
				}
			}
			src := bytes.NewReader(stream)
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				src.Reset(stream)
				r := NewReader(src, 64<<10)
				n := 0
				for {
					if _, err := r.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 1000 {
					b.Fatalf("got %d frames", n)
				}
			}
		})
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
