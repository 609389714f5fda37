package sourcetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/checkpoint"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// memLog is the input of memSource: lines appended by Feed, read by every
// instance of one check, like a file that outlives the process.
type memLog struct {
	mu    sync.Mutex
	lines []string
	wake  chan struct{} // closed and replaced on every append
}

func newMemLog() *memLog { return &memLog{wake: make(chan struct{})} }

func (l *memLog) append(lines ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, lines...)
	close(l.wake)
	l.wake = make(chan struct{})
}

// from returns the lines from i on, and a channel closed on the next append.
func (l *memLog) from(i int) ([]string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines[min(i, len(l.lines)):], l.wake
}

// good counts the lines before n that are not bad input.
func (l *memLog) good(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := 0
	for _, s := range l.lines[:min(n, len(l.lines))] {
		if !strings.HasPrefix(s, "BAD") {
			c++
		}
	}
	return c
}

// Flaws of memSource, each a contract broken on purpose.
const (
	flawNone          = ""
	flawNilToken      = "emits without a token"
	flawCommitEarly   = "commits when it emits, before acknowledgement"
	flawLoseTail      = "commits what it read, acknowledged or not, when it stops"
	flawSkipAbandoned = "commits past an abandoned batch"
	flawReplayAll     = "ignores its checkpoint on restart"
	flawMutate        = "changes a batch after emitting it"
	flawDoubleRelease = "releases the token itself as well as handing it to emit"
	flawFatalBad      = "stops at bad input"
	flawUncounted     = "does not count bad input"
	flawSlowStop      = "does not return when cancelled"
	flawLeak          = "leaves a goroutine behind"
	flawReorder       = "swaps events"
	flawDropLast      = "drops the last line of each read"
	flawKeepStarted   = "keeps what Start acquired when Run's context is already done"
)

// memSource is a correct replayable source, unless given a flaw: it reads
// memLog two lines a batch, skips and counts lines starting with BAD, and
// keeps the index of the next unacknowledged line as its checkpoint.
type memSource struct {
	log   *memLog
	store *checkpoint.Store
	bad   prometheus.Counter
	flaw  string
	// stuck keeps a flawSlowStop Run, or a flawLeak goroutine, until the test ends.
	stuck <-chan struct{}

	mu      sync.Mutex
	release func() // stops what Start started, for the next Run
}

// Start implements component.Starter. It starts a goroutine that stands
// for a listener: Run takes it over and stops it when it returns.
func (s *memSource) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release != nil {
		return nil
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-s.stuck:
		}
	}()
	s.release = func() { close(stop) }
	return nil
}

// take hands what Start started to Run, starting first if need be.
func (s *memSource) take(ctx context.Context) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.release == nil {
		s.mu.Unlock()
		_ = s.Start(ctx) // never fails
		s.mu.Lock()
	}
	release := s.release
	s.release = nil
	return release
}

func (s *memSource) Run(ctx context.Context, emit component.Emit) error {
	release := s.take(ctx)
	if ctx.Err() != nil && s.flaw == flawKeepStarted {
		return nil
	}
	defer release()
	var start int
	if _, err := s.store.Load(&start); err != nil {
		return err
	}
	if s.flaw == flawReplayAll {
		start = 0
	}
	if s.flaw == flawLeak {
		go func() { <-s.stuck }()
	}
	tr := checkpoint.NewTracker(start)
	acked := make(chan struct{}, 1)
	next := start
	var mu sync.Mutex // serializes saves, so none goes backwards
	saved := start
	save := func(pos int) {
		mu.Lock()
		defer mu.Unlock()
		if pos > saved {
			saved = pos
			_ = s.store.Save(pos)
		}
	}
	token := func(end int) *ack.Token {
		return tr.Token(end, func(_ ack.Status, moved bool) {
			switch {
			case s.flaw == flawSkipAbandoned:
				save(end) // whatever the status
			case moved:
				save(tr.Committed())
			}
			select {
			case acked <- struct{}{}:
			default:
			}
		})
	}
	err := s.read(ctx, emit, &next, token, save)
	for tr.Pending() > 0 {
		select {
		case <-acked:
		case <-time.After(5 * time.Second):
			return errors.New("acknowledgements never came")
		}
	}
	switch s.flaw {
	case flawLoseTail:
		save(next)
	case flawSlowStop:
		<-s.stuck
	}
	return err
}

// read emits batches from the log until ctx is done.
func (s *memSource) read(ctx context.Context, emit component.Emit, next *int, token func(int) *ack.Token, save func(int)) error {
	for {
		lines, wake := s.log.from(*next)
		if s.flaw == flawDropLast && len(lines) > 1 {
			lines = lines[:len(lines)-1]
		}
		for len(lines) > 0 {
			n := min(2, len(lines))
			b := &event.Batch{}
			for _, l := range lines[:n] {
				if strings.HasPrefix(l, "BAD") {
					if s.flaw == flawFatalBad {
						return errors.New("bad input")
					}
					if s.flaw != flawUncounted {
						s.bad.Inc()
					}
					continue
				}
				b.Events = append(b.Events, event.Event{Message: []byte(l)})
			}
			if s.flaw == flawReorder && len(b.Events) == 2 {
				b.Events[0], b.Events[1] = b.Events[1], b.Events[0]
			}
			lines, *next = lines[n:], *next+n
			if len(b.Events) == 0 {
				continue
			}
			if err := s.emit(ctx, emit, b, token(*next), save, *next); err != nil {
				return nil
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// emit emits one batch ending before line end, with the flaws that touch it.
func (s *memSource) emit(ctx context.Context, emit component.Emit, b *event.Batch, tok *ack.Token, save func(int), end int) error {
	b.Ack = tok
	if s.flaw == flawNilToken {
		b.Ack = nil
		tok.Release(ack.Delivered)
	}
	switch s.flaw {
	case flawCommitEarly:
		save(end)
	case flawDoubleRelease:
		// Released before emit: after it, the release would panic in the
		// source's goroutine whenever the collector released first.
		tok.Release(ack.Delivered)
	}
	if err := emit(ctx, b); err != nil {
		return err
	}
	if s.flaw == flawMutate {
		b.Events[0].Message = []byte("changed")
	}
	return nil
}

var (
	_ component.Source  = (*memSource)(nil)
	_ component.Starter = (*memSource)(nil)
)

// memHarness is the harness of memSource with a flaw.
func memHarness(flaw string, wait time.Duration) Harness {
	return Harness{Type: "mem", Replay: true, Wait: wait, Setup: func(t testing.TB, dir string) *Fixture {
		log := newMemLog()
		stuck := make(chan struct{})
		t.Cleanup(func() { close(stuck) })
		var store *checkpoint.Store
		return &Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				var err error
				if store, err = checkpoint.Open(deps.DataDir, "position"); err != nil {
					t.Fatal(err)
				}
				return &memSource{log: log, store: store, flaw: flaw, stuck: stuck,
					bad: deps.Metrics.Counter("mem_bad_lines_total", "Bad lines.", nil)}
			},
			Feed: func(_ testing.TB, msgs []string) error {
				log.append(msgs...)
				return nil
			},
			Bad:       func(testing.TB) { log.append("BAD line") },
			BadMetric: "sluice_mem_bad_lines_total",
			Committed: func(t testing.TB) int {
				var pos int
				if _, err := store.Load(&pos); err != nil {
					t.Fatal(err)
				}
				return log.good(pos)
			},
		}
	}}
}
