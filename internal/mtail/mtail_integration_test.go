package mtail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// realMtail finds Debian's mtail: $SLUICE_PEERS_ROOT/bin (default
// /opt/sluice-peers/bin) first, then PATH. Under CI=true a missing mtail
// fails the test.
func realMtail(t *testing.T) string {
	t.Helper()
	root := os.Getenv("SLUICE_PEERS_ROOT")
	if root == "" {
		root = "/opt/sluice-peers"
	}
	if p := filepath.Join(root, "bin", "mtail"); fileExists(p) {
		return p
	}
	p, err := exec.LookPath("mtail")
	if err != nil {
		testutil.RequireCI(t, "mtail not found (scripts/install-test-deps.sh installs it)")
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// mtailOneShot runs the real mtail over logs with the one program.
func mtailOneShot(t *testing.T, bin, prog string, logs []string) []byte {
	t.Helper()
	dir := t.TempDir() // mtail loads a directory: the program alone in one
	src, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(prog)), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "--one_shot", "--one_shot_format=json", "--progs", dir,
		"--logs", strings.Join(logs, ","), "--syslog_use_current_year=false", "--address=127.0.0.1",
		"--port=0", "--logtostderr", "--vm_logs_runtime_errors=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mtail: %v\n%s", err, stderr.String())
	}
	return out
}

// normalise decodes a one-shot dump and zeroes the times set from the wall
// clock (lines without strptime/settime), which two runs cannot share.
func normalise(t *testing.T, b []byte, since time.Time) any {
	t.Helper()
	var v map[string][]map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, b)
	}
	for _, ms := range v {
		for _, m := range ms {
			lvs, _ := m["LabelValues"].([]any)
			for _, lv := range lvs {
				val := lv.(map[string]any)["Value"].(map[string]any)
				if ts, ok := val["Time"].(float64); ok && ts >= float64(since.UnixNano()) {
					val["Time"] = "now"
				}
			}
		}
	}
	return v
}

// TestDifferentialCorpus: for every corpus program, on its corpus log and
// on a generated log (corpus lines with fields replaced by "-", "", other
// digits, or cut short, plus random lines), sluice's one-shot JSON equals
// the real mtail's. Logs are given as absolute paths, so getfilename()
// agrees (mtail makes paths absolute).
func TestDifferentialCorpus(t *testing.T) {
	testutil.SkipIfShort(t)
	bin, dir := realMtail(t), corpusDir(t)
	t.Chdir(dir)
	for _, tr := range readTriples(t, dir) {
		t.Run(strings.TrimSuffix(filepath.Base(tr.prog), ".mtail"), func(t *testing.T) {
			// Same base name, for programs that test getfilename().
			gen := filepath.Join(t.TempDir(), filepath.Base(tr.log))
			writeGenerated(t, gen, tr.prog, filepath.Join(dir, tr.log), 400)
			for _, log := range []string{filepath.Join(dir, tr.log), gen} {
				since := time.Now()
				want := normalise(t, mtailOneShot(t, bin, tr.prog, []string{log}), since)
				out, _ := runOneShot(t, tr.prog, []string{log})
				got := normalise(t, out, since)
				testutil.Diff(t, want, got)
			}
		})
	}
}

// writeGenerated writes n lines derived from the sample log. It leaves out
// a line whose strptime input already failed on an earlier line: mtail
// rc50 memoises the failure, so the second time it silently goes on with
// no timestamp instead of raising the error again (docs/mtail.md, known
// differences); sluice raises it every time.
func writeGenerated(t *testing.T, path, prog, sample string, n int) {
	t.Helper()
	src, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(filepath.Base(prog), string(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	f.Close()
	r := rand.New(rand.NewPCG(12, uint64(len(lines))))
	var b strings.Builder
	for i := 0; i < n; i++ {
		line := mutate(r, lines)
		var rerr *RuntimeError
		if errors.As(p.Process(line, path), &rerr) && strings.HasPrefix(rerr.Msg, "strptime") {
			if failed[rerr.Msg] {
				continue
			}
			failed[rerr.Msg] = true
		}
		fmt.Fprintln(&b, line)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mutate(r *rand.Rand, lines []string) string {
	if len(lines) == 0 || r.IntN(10) == 0 {
		const chars = "ab -0123456789.:[]\"/"
		bs := make([]byte, r.IntN(40))
		for i := range bs {
			bs[i] = chars[r.IntN(len(chars))]
		}
		return string(bs)
	}
	fields := strings.Split(lines[r.IntN(len(lines))], " ")
	for k := r.IntN(3); k > 0; k-- {
		i := r.IntN(len(fields))
		switch r.IntN(5) {
		case 0:
			fields[i] = "-"
		case 1:
			fields[i] = ""
		case 2:
			fields[i] = fmt.Sprint(r.IntN(100000))
		case 3:
			fields = fields[:i+1]
		default:
			fields[i] = "007"
		}
	}
	return strings.Join(fields, " ")
}
