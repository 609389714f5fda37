// Package proctest starts the real sluice binary for end-to-end tests
// (test/e2e, test/browser): the binary built once, the process killed when
// the test ends with its output logged if the test failed, and the ready
// file it writes once bound.
package proctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// SluiceBin returns the binary under test: $SLUICE_BIN (as `make test`
// sets it) or one built once for this test binary.
func SluiceBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SLUICE_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/sluice-log/sluice/cmd/sluice")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// SyncBuffer is a writer safe to read while a process writes to it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Proc is a started process.
type Proc struct {
	Cmd    *exec.Cmd
	Output *SyncBuffer // stdout and stderr
	done   chan struct{}
	exit   int
}

// Start starts cmd with stdout and stderr going to Output. When the test
// ends a process still running is killed, and its output is logged if the
// test failed.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, Output: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Output, p.Output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		p.exit = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("sluice output:\n%s", p.Output.String())
		}
	})
	return p
}

// Done is closed once the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the process's exit code, once Done is closed.
func (p *Proc) ExitCode() int {
	<-p.done
	return p.exit
}

// ReadyInfo is what `sluice run --ready-file` writes once the API and
// every listening source are bound (docs/reference.md).
type ReadyInfo struct {
	PID       int                 `json:"pid"`
	API       string              `json:"api"`
	Listeners map[string][]string `json:"listeners"`
}

// Ready waits up to d for the ready file sluice writes at path and returns
// what it says, failing t if the process exits first or the file names
// another process.
func (p *Proc) Ready(t testing.TB, path string, d time.Duration) ReadyInfo {
	t.Helper()
	var data []byte
	testutil.WaitFor(t, d, "sluice's ready file", func() bool {
		select {
		case <-p.done:
			t.Fatalf("sluice exited with code %d before it was ready", p.exit)
		default:
		}
		var err error
		data, err = os.ReadFile(path)
		return err == nil
	})
	var info ReadyInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatalf("ready file %q: %v", data, err)
	}
	if info.PID != p.Cmd.Process.Pid {
		t.Fatalf("ready file has pid %d, sluice is %d", info.PID, p.Cmd.Process.Pid)
	}
	return info
}
