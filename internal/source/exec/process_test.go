package exec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// procState is the state letter of a process in /proc, or "" when the
// process does not exist.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// pid (comm) state ppid ...; comm may contain spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

// processGone reports whether pid has ended: it no longer exists, or it is
// a zombie (an orphan that this machine's init has not reaped yet).
func processGone(pid int) bool {
	st := procState(pid)
	return st == "" || st == "Z" || st == "X"
}

// zombieChildren lists children of this process that were never waited for.
func zombieChildren(t *testing.T) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var out []string
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == self {
			out = append(out, s)
		}
	}
	return out
}

// readPID waits for the first message, a child's pid printed with $!.
func readPID(t *testing.T, r *running) int {
	t.Helper()
	pid, err := strconv.Atoi(r.waitMessages(t, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	if processGone(pid) {
		t.Fatalf("child %d is not running", pid)
	}
	return pid
}

func checkGone(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("process %d still running (state %s)", pid, procState(pid))
		}
	}
	if z := zombieChildren(t); len(z) > 0 {
		t.Errorf("zombie children left: %q", z)
	}
}

func TestCancelStopsGroup(t *testing.T) {
	for _, tc := range []struct {
		name             string
		script           string
		stopTimeout      time.Duration
		minStop, maxStop time.Duration // how long the stop may take
	}{
		// SIGTERM ends the shell and its background sleep at once.
		{"sigterm", `sleep 100 & echo $!; wait`, 3 * time.Second, 0, 2 * time.Second},
		// Both ignore SIGTERM: SIGKILL comes after stop_timeout.
		{"sigkill after stop_timeout", `trap "" TERM; sleep 100 & echo $!; wait`,
			300 * time.Millisecond, 300 * time.Millisecond, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig("sh", "-c", tc.script)
			cfg.Restart = RestartAlways
			cfg.StopTimeout = config.Duration(tc.stopTimeout)
			r := start(t, cfg, false)
			pid := readPID(t, r)
			took, err := r.stop(t)
			if err != nil {
				t.Errorf("Run after cancel: %v", err)
			}
			if took < tc.minStop || took > tc.maxStop {
				t.Errorf("stop took %v, want between %v and %v", took, tc.minStop, tc.maxStop)
			}
			checkGone(t, pid)
			if n := counterValue(t, r.src.restarts); n != 0 {
				t.Errorf("a cancelled command was restarted %d times", n)
			}
		})
	}
}

// TestLeftoverChild: the command exits but a background child keeps its
// output open; after stop_timeout the child is killed and Run goes on.
func TestLeftoverChild(t *testing.T) {
	cfg := newConfig("sh", "-c", `sleep 100 & echo $!`)
	cfg.StopTimeout = config.Duration(200 * time.Millisecond)
	r := start(t, cfg, false)
	pid := readPID(t, r)
	if err := r.result(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	checkGone(t, pid)
	if !strings.Contains(r.log.String(), "keep its output open") {
		t.Errorf("leftover child not logged:\n%s", r.log.String())
	}
}

// TestInteractiveOutput: a line printed by a command that then stays
// silent must arrive without waiting for more output.
func TestInteractiveOutput(t *testing.T) {
	cfg := newConfig("sh", "-c", `echo ready; exec sleep 100`)
	r := start(t, cfg, false)
	if m := r.waitMessages(t, 1); m[0] != "ready" {
		t.Errorf("got %q", m)
	}
	if _, err := r.stop(t); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	checkGone(t)
}
