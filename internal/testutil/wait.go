package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond every few milliseconds until it holds or wait has
// passed, and reports whether it held. It is for conditions nothing
// signals (a counter, a checkpoint file, another process's state); where a
// channel says when to look, wait on that instead.
func Eventually(wait time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// WaitFor fails t unless cond holds within wait; what names the condition
// in the failure.
func WaitFor(t testing.TB, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Eventually(wait, cond) {
		t.Fatalf("timed out after %v waiting for %s", wait, what)
	}
}
