package sinktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// memPeer is an in-memory destination with the hooks of an Instance.
type memPeer struct {
	mu      sync.Mutex
	msgs    []string
	broken  bool
	hung    bool
	release chan struct{}
}

func (p *memPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

func (p *memPeer) state() (broken, hung bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.broken, p.hung
}

const marker = "poison"

// memSink writes to a memPeer. Its zero mode is a correct sink; the other
// modes are the bugs the suite must catch.
type memSink struct {
	peer *memPeer
	mode string
	wg   sync.WaitGroup
	once sync.Once
	stop chan struct{}

	lastFailed *event.Batch // loseonretry: the batch of the last error
}

func (s *memSink) Write(ctx context.Context, b *event.Batch) error {
	broken, hung := s.peer.state()
	switch {
	case hung && s.mode == "ignorectx":
		<-s.peer.release
		return errors.New("peer hung")
	case hung:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.peer.release:
			return errors.New("peer hung")
		}
	case broken:
		s.lastFailed = b
		return errors.New("peer broken")
	}
	events := b.Events
	if s.mode == "loseonretry" && b == s.lastFailed {
		events = events[1:] // the bug: the first event is lost on a retry
	}
	outcomes := make([]component.Outcome, len(b.Events))
	var rejected bool
	var keep []string
	for i, e := range events {
		if strings.Contains(string(e.Message), marker) {
			outcomes[i], rejected = component.Reject, true
			continue
		}
		keep = append(keep, string(e.Message))
	}
	if rejected && s.mode == "rejectall" {
		return component.Rejected(errors.New("poison in batch"))
	}
	if s.mode == "ackearly" {
		s.wg.Go(func() { // the bug: acknowledged now, written at Close
			<-s.stop
			s.append(keep)
		})
	} else {
		s.append(keep)
	}
	if rejected {
		return &component.PartialError{Outcomes: outcomes, Err: errors.New("poison refused")}
	}
	return nil
}

func (s *memSink) append(msgs []string) {
	s.peer.mu.Lock()
	s.peer.msgs = append(s.peer.msgs, msgs...)
	s.peer.mu.Unlock()
}

func (s *memSink) Close(context.Context) error {
	s.once.Do(func() {
		if s.mode != "leak" {
			close(s.stop)
		}
	})
	// wg holds only the writes of ackearly, which wait for stop.
	s.wg.Wait()
	return nil
}

func memHarness(mode string) Harness {
	return Harness{RejectMarker: marker, MaxWait: 3 * time.Second, New: func(t *testing.T) *Instance {
		peer := &memPeer{release: make(chan struct{})}
		t.Cleanup(func() { close(peer.release) })
		s := &memSink{peer: peer, mode: mode, stop: make(chan struct{})}
		// A background goroutine, as sinks with keepalives have; Close
		// stops it unless the mode is leak.
		go func() { <-s.stop }()
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return &Instance{Sink: s, Received: peer.received,
			Break: func() func() {
				peer.mu.Lock()
				peer.broken = true
				peer.mu.Unlock()
				return func() { peer.mu.Lock(); peer.broken = false; peer.mu.Unlock() }
			},
			Restart: func() {},
			Hang:    func() { peer.mu.Lock(); peer.hung = true; peer.mu.Unlock() },
		}
	}}
}

// TestSuite runs the suite against the correct memSink, or, in a child
// process started by TestBrokenSinksFail, against the broken mode named
// by SINKTEST_MODE.
func TestSuite(t *testing.T) {
	Run(t, memHarness(os.Getenv("SINKTEST_MODE")))
}

// TestBrokenSinksFail runs the suite against each deliberately broken
// sink in a child process and checks that it fails, in the check meant
// to catch that bug.
func TestBrokenSinksFail(t *testing.T) {
	if os.Getenv("SINKTEST_MODE") != "" {
		t.Skip("in the child process")
	}
	for _, tc := range []struct{ mode, failing string }{
		{"ackearly", "Delivery"},
		{"loseonretry", "RetryAfterTransientFailure"},
		{"rejectall", "RejectOneEvent"},
		{"leak", "NoGoroutineLeak"},
		{"ignorectx", "ContextCancelled"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSuite$", "-test.v", "-test.timeout=60s")
			cmd.Env = append(os.Environ(), "SINKTEST_MODE="+tc.mode)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("suite against the %s sink: err %v, want a failing exit; output:\n%s", tc.mode, err, out)
			}
			if want := fmt.Sprintf("--- FAIL: TestSuite/%s ", tc.failing); !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		})
	}
}
