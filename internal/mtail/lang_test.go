package mtail

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// dump renders a program's metrics as sorted "name{labels}=value" lines.
func dump(p *Program) string {
	var out []string
	for _, m := range p.metrics {
		for _, ls := range m.sets() {
			v := fmt.Sprint(ls.d.i)
			switch m.Type {
			case Float:
				v = fmt.Sprint(ls.d.f)
			case String:
				v = fmt.Sprintf("%q", ls.d.s)
			case Buckets:
				v = fmt.Sprintf("%v/%d/%g", ls.d.counts, ls.d.count, ls.d.sum)
			}
			out = append(out, fmt.Sprintf("%s{%s}=%s", m.Name, strings.Join(ls.labels, ","), v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func runLines(t *testing.T, src string, lines ...string) (*Program, []error) {
	t.Helper()
	p, err := Compile("t.mtail", src, Options{Now: func() time.Time { return time.Unix(100, 0) }})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var errs []error
	for _, l := range lines {
		if err := p.Process(l, "/var/log/test.log"); err != nil {
			errs = append(errs, err)
		}
	}
	return p, errs
}

func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		lines     []string
		want      string
		errs      int
	}{
		{"counter by typed capture normalises", "counter c by n\n/(\\d+)/ {\n c[$1]++\n}", []string{"007", "7", "x"}, "c{7}=2", 0},
		{"float capture label", "counter c by n\n/(\\d+\\.\\d+)/ {\n c[$1]++\n}", []string{"1.50"}, "c{1.5}=1", 0},
		{"else does not count for otherwise", "counter a\ncounter b\n/x/ {\n a++\n} else {\n b++\n}\notherwise {\n b++\n}",
			[]string{"y", "x"}, "a{}=1 b{}=2", 0},
		{"otherwise after a match", "counter a\ncounter b\n/x/ {\n a++\n}\notherwise {\n b++\n}", []string{"x", "z"}, "a{}=1 b{}=1", 0},
		{"one-line block", "counter a\n/x/ { a++ }", []string{"x"}, "a{}=1", 0},
		{"stop ends the run", "counter a\ncounter b\n/x/ {\n a++\n stop\n}\n// {\n b++\n}", []string{"x", "y"}, "a{}=1 b{}=1", 0},
		{"empty capture as int is a runtime error that aborts", "counter a\ncounter b\n/^(?P<n>\\d+)?-/ {\n b++\n a += $n\n b++\n}",
			[]string{"-", "5-"}, "a{}=5 b{}=3", 1},
		{"division by zero", "gauge g\n/(\\d+)/ {\n g = 10 / $1\n}", []string{"0", "5"}, "g{}=2", 1},
		{"float division and int division", "gauge g\ngauge h\n/(\\d+)/ {\n g = $1 / 2\n h = $1 / 2.0\n}", []string{"7"}, "g{}=3 h{}=3.5", 0},
		{"string concatenation labels", "counter c by s\n/(\\w+) (\\w+)/ {\n c[$1 + \"-\" + $2]++\n}", []string{"a b"}, "c{a-b}=1", 0},
		{"builtins", "gauge l\ngauge x\ntext lo\ntext s\n/(\\w+) (\\w+)/ {\n l = len($1)\n x = strtol($2, 16)\n lo = tolower($1)\n s = subst(/[0-9]+/, \"N\", $2)\n}",
			[]string{"ABC ff1"}, `lo{}="abc" l{}=3 s{}="ffN" x{}=4081`, 0},
		{"subst with a string", "text s\n/(.*)/ {\n s = subst(\"a\", \"b\", $1)\n}", []string{"banana"}, `s{}="bbnbnb"`, 0},
		{"match on a capture", "counter y\ncounter n\n/(\\w+)/ {\n $1 =~ /^a/ {\n y++\n }\n $1 !~ /^a/ {\n n++\n }\n}", []string{"abc", "bcd", "aa"}, "n{}=1 y{}=2", 0},
		{"capture from =~ pattern", "counter c by k\n/(\\S+) (\\S+)/ {\n $2 =~ /^(\\w{3})/ {\n c[$1]++\n }\n}", []string{"x abcdef"}, "c{abc}=1", 0},
		{"decorator", "counter c by h\ndef d {\n /^(?P<h>\\w+): / {\n next\n }\n}\n@d {\n /ok/ {\n c[$h]++\n }\n}", []string{"web: ok", "db: no", "ok"}, "c{web}=1", 0},
		{"const concatenation", "counter c\nconst A /a+/\nconst B A + /b/\n/^/ + B + /$/ {\n c++\n}", []string{"aab", "ab", "b"}, "c{}=2", 0},
		{"and or conditions", "counter c\ncounter d\n/(\\d+)/ && $1 > 5 {\n c++\n}\n/x/ || /y/ {\n d++\n}", []string{"3", "9", "x", "y"}, "c{}=1 d{}=2", 0},
		{"del removes a label set", "counter c by k\n/add (\\w)/ {\n c[$1]++\n}\n/del (\\w)/ {\n del c[$1]\n}", []string{"add a", "add b", "del a", "add a"}, "c{a}=1 c{b}=1", 0},
		{"histogram", "histogram h buckets 1, 2, 4\n/(\\d+)/ {\n h = $1\n}", []string{"0", "2", "3", "9"}, "h{}=[1 1 1 1]/4/14", 0},
		{"float inference through +=", "gauge g\n/(\\d+)/ {\n g += 1.5 * $1\n}", []string{"2", "1"}, "g{}=4.5", 0},
		{"timestamp and settime", "gauge t\n/(\\d+)/ {\n settime($1)\n t = timestamp()\n}", []string{"1234"}, "t{}=1234", 0},
		{"timestamp is now without strptime", "gauge t\n/x/ {\n t = timestamp()\n}", []string{"x"}, "t{}=100", 0},
		{"strptime failure aborts", "counter c\n/(\\S+)/ {\n strptime($1, \"2006-01-02\")\n c++\n}", []string{"2020-01-02", "bad", "bad"}, "c{}=1", 2},
		{"getfilename", "counter c by f\n// {\n c[getfilename()]++\n}", []string{"a"}, "c{/var/log/test.log}=1", 0},
		{"bit operations", "gauge g\ngauge h\ngauge k\n/(\\w+)/ {\n g = (strtol($1, 16) >> 4) & ((2 ** 3) - 1)\n h = ~0\n k = 5 ^ 1 | 8\n}", []string{"ff"}, "g{}=7 h{}=-1 k{}=12", 0},
		{"string compare with number", "counter c\n/(\\S+)/ {\n $1 > 10 {\n c++\n }\n}", []string{"9", "11", "x"}, "c{}=2", 0},
		{"text append", "text t\n/(\\w)/ {\n t += $1\n}", []string{"a", "b"}, `t{}="ab"`, 0},
		{"multi-key index forms", "counter c by a, b\n/(\\w) (\\w)/ {\n c[$1][$2]++\n c[$1, $2]++\n}", []string{"x y"}, "c{x,y}=2", 0},
		{"any bytes in label values", "counter c by a, b\n/^(\\S*) (\\S*)$/ {\n c[$1, $2]++\n}",
			[]string{"a\xff \xffb", "a\xff\xff b", "a\xff \xffb", " ", "\x00\x00\x00\x00 \x01"}, "c{\x00\x00\x00\x00,\x01}=1 c{,}=1 c{a\xff,\xffb}=2 c{a\xff\xff,b}=1", 0},
		{"hidden metric as scratch", "hidden gauge s by k\ncounter d\n/start (\\w)/ {\n s[$1] = 5\n}\n/end (\\w)/ {\n d += 7 - s[$1]\n}", []string{"start a", "end a"}, "d{}=2 s{a}=5", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, errs := runLines(t, tc.src, tc.lines...)
			if got := dump(p); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if len(errs) != tc.errs || p.RuntimeErrors() != uint64(tc.errs) {
				t.Errorf("runtime errors %v (counted %d), want %d", errs, p.RuntimeErrors(), tc.errs)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"unused declaration", "counter a\ncounter b\n/x/ {\n a++\n}", "t.mtail:2:9: declaration of metric `b' here is never used"},
		{"undefined capture", "counter a by x\n/x/ {\n a[$1]++\n}", "t.mtail:3:4: capture group `$1' was not defined"},
		{"undeclared metric", "/x/ {\n b++\n}", "t.mtail:2:2: identifier `b' not declared"},
		{"bad regex", "counter a\n/(x/ {\n a++\n}", "t.mtail:2:1: bad regular expression /(x/"},
		{"wrong key count", "counter a by x, y\n/(x)/ {\n a[$1]++\n}", "t.mtail:3:2: metric `a' has 2 label key(s), indexed with 1"},
		{"redeclaration", "counter a\ncounter a\n/x/ {\n a++\n}", "t.mtail:2:9: redeclaration of metric `a'"},
		{"arity", "text t\n/x/ {\n t = tolower()\n}", "t.mtail:3:6: tolower() takes 1 argument(s), got 0"},
		{"unterminated regex", "counter a\n/x {\n", "t.mtail:2:1: unterminated regular expression"},
		{"missing brace", "counter a\n/x/ {\n a++\n", "t.mtail:4:1: syntax error: unexpected end of file, expecting '}'"},
		{"bad duration", "counter a by k\n/(x)/ {\n a[$1]++\n del a[$1] after 1d\n}", "t.mtail:4:18: bad duration \"1d\""},
		{"next outside def", "counter a\n/x/ {\n next\n}", "t.mtail:3:2: 'next' outside a def"},
		{"strptime layout", "counter a\n/(x)/ {\n strptime($1, $1)\n a++\n}", "strptime's layout must be a string literal"},
		{"two captures of one name", "counter a\n/(?P<x>a)/ && /(?P<x>b)/ {\n a++\n}", "redeclaration of capture group"},
		{"buckets on a counter", "counter a buckets 1, 2\n/x/ {\n a++\n}", "buckets are only for histograms"},
		{"deep nesting", strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile("t.mtail", tc.src, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestPrometheusInvalidUTF8: a label value that is not UTF-8 (logs are
// bytes) is exported with U+FFFD instead of failing the whole scrape.
func TestPrometheusInvalidUTF8(t *testing.T) {
	p, _ := runLines(t, "counter c by a\n/(\\S+)/ {\n c[$1]++\n}", "ok", "b\xffd")
	var buf strings.Builder
	if err := WritePrometheus(&buf, []*Program{p}, true, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`c{a="ok",prog="t.mtail"} 1`, "c{a=\"b\uFFFDd\",prog=\"t.mtail\"} 1"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %s in:\n%s", want, buf.String())
		}
	}
}
