package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimiterSuppressesRepeats(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	log := slog.New(NewLimiter(slog.NewTextHandler(&buf, nil), 10*time.Second, func() time.Time { return now }))
	a := log.With("component", "a")
	for range 5 {
		a.Warn("bad frame")
	}
	log.With("component", "b").Warn("bad frame") // another component: its own key
	a.Info("started")                            // info is never limited
	a.Info("started")
	now = now.Add(11 * time.Second)
	a.Warn("bad frame")
	out := buf.String()
	if n := strings.Count(out, `msg="bad frame" component=a`); n != 2 {
		t.Errorf("component a logged %d times, want 2 (first, then after the interval):\n%s", n, out)
	}
	if !strings.Contains(out, "suppressed=4") {
		t.Errorf("the line after the interval should report 4 suppressed:\n%s", out)
	}
	if strings.Count(out, "component=b") != 1 || strings.Count(out, "started") != 2 {
		t.Errorf("other components and info lines must pass:\n%s", out)
	}
}
