package mtail

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// corpusDir finds the shared mtail corpus (../shared/compat/mtail beside
// the repository, or $SLUICE_MTAIL_CORPUS); it is never copied here.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SLUICE_MTAIL_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "compat", "mtail")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		if _, err = os.Stat(filepath.Join(abs, "triples.tsv")); err == nil {
			return abs
		}
	}
	testutil.RequireCI(t, "the shared mtail corpus is missing: "+dir+" (set SLUICE_MTAIL_CORPUS)")
	return ""
}

type triple struct{ prog, log, golden, origin string }

func readTriples(t *testing.T, dir string) []triple {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "triples.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []triple
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 4 {
			t.Fatalf("bad triples.tsv line %q", sc.Text())
		}
		out = append(out, triple{fs[0], fs[1], fs[2], fs[3]})
	}
	return out
}

// runOneShot is what `sluice mtail --one_shot` does with one program:
// compile, read the log, dump the JSON.
func runOneShot(t *testing.T, prog string, logs []string) ([]byte, []*Program) {
	t.Helper()
	progs, err := LoadDir(prog, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := OneShot(progs, logs); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, progs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), progs
}

// TestCorpus runs every triple of the shared corpus and compares with its
// golden by the README's rules. Log paths are given relative to the corpus
// as upstream's table does, so getfilename() is testdata/else.log.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	t.Chdir(dir)
	for _, tr := range readTriples(t, dir) {
		t.Run(strings.TrimSuffix(filepath.Base(tr.prog), ".mtail"), func(t *testing.T) {
			out, progs := runOneShot(t, tr.prog, []string{tr.log})
			want, err := readGolden(tr.golden)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fromJSON(out)
			if err != nil {
				t.Fatalf("bad JSON %v:\n%s", err, out)
			}
			dropUnwantedTimes(want, got)
			testutil.Diff(t, want, got)
			// Only rt_parse_a_hyphen states its runtime errors (apache_combined
			// has one too, on a "-" size, as in mtail).
			if strings.Contains(tr.origin, "1 runtime error") {
				if n := progs[0].RuntimeErrors(); n != 1 {
					t.Errorf("runtime errors = %d, want 1", n)
				}
			}
		})
	}
}

// dropUnwantedTimes clears produced times where the golden has none.
func dropUnwantedTimes(want, got map[string]*gMetric) {
	for name, gm := range got {
		wm := want[name]
		for i := range gm.Values {
			if wm == nil || i >= len(wm.Values) || wm.Values[i].Time == nil {
				gm.Values[i].Time = nil
			}
		}
	}
}
