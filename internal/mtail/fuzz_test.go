package mtail

import (
	"os"
	"path/filepath"
	"testing"
)

var fuzzSeedPrograms = []string{
	"counter c\n/x/ {\n c++\n}",
	"counter c by a, b\nconst P /(\\d+)/\n/^/ + P + / (?P<w>\\w+)/ && $1 > 2 {\n c[$w][$1]++\n} else {\n c[\"-\", \"-\"]++\n}\notherwise {\n stop\n}",
	"histogram h by k buckets -1, 0.5, 2\ngauge g\ntext t\n/(?P<k>\\w+) (?P<v>-?\\d+\\.\\d+)/ {\n h[$k] = $v\n g = int($v) ** 2 % 7\n t = subst(/\\d/, \"#\", $k) + tolower($k)\n}",
	"def d {\n /^(?P<date>\\S+) / {\n strptime($date, \"2006-01-02T15:04:05Z07:00\")\n next\n }\n}\ncounter c by x\n@d {\n /x=(?P<x>\\S*)/ {\n c[$x]++\n del c[$x] after 1h\n }\n}",
	"gauge g\n/(\\d+)/ {\n g = $1 / 0\n g -= ~$1 << 2 >> 1\n}",
}

// corpusPrograms reads the shared corpus programs when present (they are
// never copied into the repository).
func corpusPrograms() map[string]string {
	out := map[string]string{}
	dir := os.Getenv("SLUICE_MTAIL_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "compat", "mtail")
	}
	for _, sub := range []string{"examples", "derived"} {
		files, _ := filepath.Glob(filepath.Join(dir, sub, "*.mtail"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				out[filepath.Base(f)] = string(b)
			}
		}
	}
	return out
}

// FuzzCompile: any text compiles or gives an error; it never panics.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeedPrograms {
		f.Add(s)
	}
	for _, s := range corpusPrograms() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile("fuzz.mtail", src, Options{})
		if err == nil {
			_ = p.Process("2017-10-30T08:52:14Z x=1 1.5 abc 42", "fuzz.log")
		}
	})
}

// FuzzRun: any line through the corpus programs (and the seeds) runs or
// ends in a runtime error; it never panics.
func FuzzRun(f *testing.F) {
	var progs []*Program
	srcs := corpusPrograms()
	for i, s := range fuzzSeedPrograms {
		srcs[string(rune('a'+i))+".mtail"] = s
	}
	for name, s := range srcs {
		p, err := Compile(name, s, Options{})
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		progs = append(progs, p)
	}
	for _, seed := range []string{"", "-", "7 -", "Feb  3 04:05:06 host ntpd[1]: kernel time sync status 2040",
		`192.0.2.1 - - [23/Mar/2018:12:31:04 +0000] "GET / HTTP/1.1" 200 - "-" "curl"`, "abc 1.5", "\xff\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, p := range progs {
			_ = p.Process(line, "/var/log/xferlog")
		}
	})
}
