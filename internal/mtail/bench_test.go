package mtail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchLines are Apache combined lines with varied fields, like bench/gen's.
func benchLines(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "GET", "POST", "PUT"}
	codes := []int{200, 200, 301, 304, 404, 500}
	out := make([]string, n)
	for i := range out {
		size := fmt.Sprint(r.IntN(50000))
		if r.IntN(10) == 0 {
			size = "-"
		}
		out[i] = fmt.Sprintf(`10.%d.%d.%d - - [22/Nov/2026:%02d:%02d:%02d +0000] "%s /api/v1/orders/%d HTTP/1.1" %d %s "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"`,
			r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(24), r.IntN(60), r.IntN(60),
			methods[r.IntN(len(methods))], r.IntN(100000), codes[r.IntN(len(codes))], size)
	}
	return out
}

func benchProgram(b *testing.B, name, src string) {
	p, err := Compile(name, src, Options{})
	if err != nil {
		b.Fatal(err)
	}
	lines := benchLines(4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = p.Process(lines[i&4095], "/var/log/apache2/access.log")
		i++
	}
}

func BenchmarkLinecount(b *testing.B) {
	benchProgram(b, "linecount.mtail", "counter lines_total\n/$/ {\n  lines_total++\n}\n")
}

func BenchmarkApacheCombined(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "compat", "mtail", "examples", "apache_combined.mtail"))
	if err != nil {
		b.Skip("the shared mtail corpus is missing")
	}
	benchProgram(b, "apache_combined.mtail", string(src))
}

// regex32 is the 32-regex program of bench/mtail.sh.
func regex32() string {
	res := []string{`" 200 `, `" 301 `, `" 302 `, `" 304 `, `" 400 `, `" 401 `, `" 403 `, `" 404 `, `" 500 `, `" 502 `,
		`" 503 `, `"GET `, `"POST `, `"PUT `, `"DELETE `, `"HEAD `, `HTTP\/1\.0"`, `HTTP\/2\.0"`,
		`\/api\/v1\/users`, `\/api\/v1\/orders\/(\d+)`, `\/static\/\S+\.js`, `\/static\/\S+\.css`,
		`\/login`, `\/healthz`, `\/index\.html`, `[?&]id=(\d+)`, `Firefox\/(\d+)`, `Chrome\/(\d+)`,
		`curl\/`, `bot|crawler|spider`, `^10\.(\d+)\.`, `\[\d+\/Nov\/2026:0[0-5]:`}
	var b strings.Builder
	b.WriteString("counter hits by rule\n")
	for i, re := range res {
		fmt.Fprintf(&b, "/%s/ {\n  hits[\"r%02d\"]++\n}\n", re, i)
	}
	return b.String()
}

func BenchmarkRegex32(b *testing.B) { benchProgram(b, "regex32.mtail", regex32()) }
