package mtail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func benchProgram(b *testing.B, name, src string) {
	p, err := Compile(name, src, Options{})
	if err != nil {
		b.Fatal(err)
	}
	lines := testutil.ApacheLines(4096)
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
