package sourcetest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCorrectSourcePasses runs the suite against memSource without a flaw.
func TestCorrectSourcePasses(t *testing.T) {
	Run(t, memHarness(flawNone, 5*time.Second))
}

// recorder is a testing.TB that records failures instead of failing the
// test, so the suite can be run against a source that must fail it. Fatal
// ends the calling goroutine, as testing's does; everything else (TempDir,
// Cleanup, Output) is the real test's.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, msg)
}

func (r *recorder) Helper()                   {}
func (r *recorder) Error(args ...any)         { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.record(fmt.Sprintf(f, a...)) }
func (r *recorder) Fail()                     { r.record("Fail") }
func (r *recorder) Fatal(args ...any)         { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(f string, a ...any) { r.record(fmt.Sprintf(f, a...)); runtime.Goexit() }
func (r *recorder) FailNow()                  { r.record("FailNow"); runtime.Goexit() }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failures, "\n")
}

// TestBrokenSourcesFail runs the suite against memSource with each flaw
// and checks the suite reports it, with a failure that names it.
func TestBrokenSourcesFail(t *testing.T) {
	for _, tc := range []struct {
		flaw string
		want string // in one of the failures
	}{
		{flawNilToken, "without an ack token"},
		{flawCommitEarly, "moved past unacknowledged events"},
		{flawLoseTail, "after an abandoned batch and a stop"},
		{flawSkipAbandoned, "after an abandoned batch and a stop"},
		{flawReplayAll, "-want +got"},
		{flawMutate, "changed after it was emitted"},
		{flawDoubleRelease, "released more often than retained"},
		{flawFatalBad, "Run returned after bad input"},
		{flawUncounted, "was not counted"},
		{flawSlowStop, "did not return"},
		{flawLeak, "goroutines left"},
		{flawReorder, "-want +got"},
		{flawDropLast, "timed out"},
		{flawKeepStarted, "goroutines left after Start and a cancelled Run"},
	} {
		t.Run(strings.ReplaceAll(tc.flaw, " ", "_"), func(t *testing.T) {
			// In parallel: a leaked goroutine of one may add a failure to
			// another's report, never hide the one it must have.
			t.Parallel()
			r := &recorder{TB: t}
			Run(r, memHarness(tc.flaw, 500*time.Millisecond))
			if !r.Failed() {
				t.Fatalf("the suite passed a source that %s", tc.flaw)
			}
			if got := r.report(); !strings.Contains(got, tc.want) {
				t.Errorf("the suite failed a source that %s, but not with %q:\n%s", tc.flaw, tc.want, got)
			}
		})
	}
}
