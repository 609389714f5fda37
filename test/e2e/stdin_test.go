package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStdinToFileExitsAtEOF pipes lines into sluice: it delivers all of
// them and exits by itself when stdin ends.
func TestStdinToFileExitsAtEOF(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
sources:
  in: { type: stdin }
sinks:
  out: { type: file, inputs: [ in ], path: "%[1]s/out.log", encoding: text }
`, dir))
	var b strings.Builder
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "line-%07d some payload to make the line a realistic length\n", i)
	}
	p := start(t, cfg, strings.NewReader(b.String()))
	if code := p.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	checkExactlyOnce(t, readLines(t, filepath.Join(dir, "out.log")), 100000, false)
}

// TestReloadChangesSinkWithoutLoss rewrites the config while lines flow:
// the changed sink is restarted, the file source keeps running, nothing is
// lost or repeated.
func TestReloadChangesSinkWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	cfg := fileToFileConfig(t, dir, "text")
	in := filepath.Join(dir, "in", "app.log")
	w := newLineWriter(t, in)
	p := start(t, cfg, nil)
	p.ready()
	w.write(20000)
	// Same sink, new output file: the sink changes, the source does not.
	writeFile(t, cfg, strings.Replace(readFile(t, cfg), "out/all.log", "out/after.log", 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	w.write(20000)
	out := filepath.Join(dir, "out", "*.log")
	waitFor(t, 60*time.Second, "all lines after reload", func() bool { return len(readLines(t, out)) >= w.next })
	p.stop(syscall.SIGTERM)
	checkExactlyOnce(t, readLines(t, out), w.next, false)
	if !strings.Contains(p.stderr.String(), "config reloaded") {
		t.Error("no 'config reloaded' in the log")
	}
	if len(readLines(t, filepath.Join(dir, "out", "after.log"))) == 0 {
		t.Error("the reloaded sink wrote nothing")
	}
}
