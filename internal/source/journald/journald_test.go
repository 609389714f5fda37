package journald

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestDecodeEntry(t *testing.T) {
	line := `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":[104,105,255],` +
		`"PRIORITY":"3","_HOSTNAME":"web1","_SYSTEMD_UNIT":"app.service","_PID":"42","TAG":["a","b"]}`
	e, cursor, err := decodeEntry([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, "s=1;i=2", cursor)
	testutil.Diff(t, "hi\xff", string(e.Message))
	testutil.Diff(t, "web1", e.Host)
	testutil.Diff(t, "app.service", e.Stream)
	testutil.Diff(t, int64(1700000000123456), e.Timestamp.UnixMicro())
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Key] = f.Value.Str()
	}
	testutil.Diff(t, map[string]string{"PRIORITY": "3", "severity": "err", "_PID": "42", "_SYSTEMD_UNIT": "app.service", "TAG": "a"}, got)
	if _, _, err := decodeEntry([]byte(`{"MESSAGE":"x"}`)); err == nil {
		t.Error("entry without cursor accepted")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte(`{"__CURSOR":"c","MESSAGE":"m","PRIORITY":"9"}`))
	f.Add([]byte(`{"__CURSOR":"c","MESSAGE":[[1,2],"x"],"__REALTIME_TIMESTAMP":"-1"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, cursor, err := decodeEntry(line)
		if err == nil && (cursor == "" || e.Stream == "") {
			t.Fatalf("accepted entry without cursor or stream: %q", line)
		}
	})
}

func TestArgs(t *testing.T) {
	c := &Config{}
	c.Defaults()
	c.Units = []string{"nginx.service"}
	c.Matches = []string{"_TRANSPORT=kernel", "PRIORITY=3"}
	s := &Source{cfg: c}
	testutil.Diff(t, []string{"--output=json", "--all", "--no-pager", "--follow", "--after-cursor=abc",
		"--unit=nginx.service", "_TRANSPORT=kernel", "+", "PRIORITY=3"}, s.args("abc"))
	testutil.Diff(t, "--lines=0", s.args("")[4])
}

// journalRemote finds the real converter from journal export format to
// journal files, Debian's systemd-journal-remote: on PATH (the wrapper
// scripts/install-test-deps.sh puts in /opt/sluice-peers/bin), else where
// the package installs it (it is not on PATH there).
func journalRemote() (string, error) {
	if p, err := exec.LookPath("systemd-journal-remote"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// appendJournal appends entries to a real journal file.
func appendJournal(t *testing.T, file string, first, n int) {
	t.Helper()
	remote, err := journalRemote()
	if err != nil {
		testutil.RequireCI(t, "systemd-journal-remote is not installed (scripts/install-test-deps.sh)")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		testutil.RequireCI(t, "journalctl is not installed")
	}
	var b strings.Builder
	base := time.Now().UnixMicro()
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=0123456789abcdef0123456789abcdef\n"+
			"MESSAGE=entry %d\nSYSLOG_IDENTIFIER=app\nPRIORITY=6\n_HOSTNAME=web1\n\n", base+int64(i), 1000+i, i)
	}
	export := filepath.Join(t.TempDir(), "export.txt")
	if err := os.WriteFile(export, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(remote, "--output="+file, export).CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

func newSource(t *testing.T, deps component.Deps, file string) *Source {
	c := &Config{}
	c.Defaults()
	c.Files = []string{file}
	c.ReadFrom = "beginning"
	c.RestartBackoff = 0
	s, err := New(testutil.Validated(t, c), deps)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

func entries(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("entry %d", i))
	}
	return out
}

// TestResumesFromCursor reads a real journal file, restarts, and reads
// only the entries added since, through the committed cursor.
func TestResumesFromCursor(t *testing.T) {
	testutil.SkipIfShort(t)
	file := filepath.Join(t.TempDir(), "test.journal")
	appendJournal(t, file, 0, 5)
	deps := testutil.Deps(t, "journal")
	deps.Once = true

	col := &testutil.Collector{}
	if err := newSource(t, deps, file).Run(t.Context(), col.Emit); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, entries(0, 5), col.Messages())
	if e := col.Events()[0]; e.Stream != "app" || e.Host != "web1" {
		t.Errorf("event %+v", e)
	}

	appendJournal(t, file, 5, 3)
	col2 := &testutil.Collector{}
	if err := newSource(t, deps, file).Run(t.Context(), col2.Emit); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, entries(5, 3), col2.Messages())
}

// TestCursorOnlyAfterAck holds acknowledgements back: the cursor must not
// move, so a restart reads the same entries again.
func TestCursorOnlyAfterAck(t *testing.T) {
	testutil.SkipIfShort(t)
	file := filepath.Join(t.TempDir(), "test.journal")
	appendJournal(t, file, 0, 4)
	deps := testutil.Deps(t, "journal")
	deps.Once = true

	held := &testutil.Collector{Hold: true}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- newSource(t, deps, file).Run(ctx, held.Emit) }()
	waitFor(t, func() bool { return len(held.Messages()) == 4 })
	held.Release(ack.Abandoned) // e.g. sluice stopped before the sinks took them
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if _, err := os.Stat(filepath.Join(deps.DataDir, "cursor")); err == nil {
		t.Fatal("cursor written although nothing was acknowledged")
	}
	again := &testutil.Collector{}
	if err := newSource(t, deps, file).Run(t.Context(), again.Emit); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, entries(0, 4), again.Messages())
}

// TestFollow keeps journalctl running and sees entries appended later.
func TestFollow(t *testing.T) {
	testutil.SkipIfShort(t)
	file := filepath.Join(t.TempDir(), "test.journal")
	appendJournal(t, file, 0, 2)
	deps := testutil.Deps(t, "journal")
	col := &testutil.Collector{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- newSource(t, deps, file).Run(ctx, col.Emit) }()
	waitFor(t, func() bool { return len(col.Messages()) == 2 })
	appendJournal(t, file, 2, 3)
	waitFor(t, func() bool { return len(col.Messages()) == 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, entries(0, 5), col.Messages())
	cursor, err := os.ReadFile(filepath.Join(deps.DataDir, "cursor"))
	if err != nil || !strings.Contains(string(cursor), "i=5") {
		t.Errorf("cursor %q, %v: want the fifth entry's", cursor, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	if !testutil.Eventually(15*time.Second, cond) {
		t.Fatal("timed out")
	}
}
