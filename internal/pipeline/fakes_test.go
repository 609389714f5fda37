package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// The fakes below are registered under "test*" types so pipeline tests
// can build graphs from YAML without depending on real components.

// world is what the fakes report to; each test makes its own, keyed by name.
type world struct {
	mu        sync.Mutex
	delivered map[string][]string // sink id -> messages
	acked     map[ack.Status]int  // events by final status
	srcStarts map[string]int
	// held counts, per source ID, instances started and not yet released.
	held map[string]int
	// failures makes sink writes fail: value is how many more calls fail.
	failures map[string]*atomic.Int64
	// gate blocks sink writes until closed.
	gate chan struct{}
}

var (
	worldsMu sync.Mutex
	worlds   = map[string]*world{}
)

func newWorld(name string) *world {
	w := &world{delivered: map[string][]string{}, acked: map[ack.Status]int{}, srcStarts: map[string]int{},
		held: map[string]int{}, failures: map[string]*atomic.Int64{}}
	worldsMu.Lock()
	worlds[name] = w
	worldsMu.Unlock()
	return w
}

func getWorld(name string) *world {
	worldsMu.Lock()
	defer worldsMu.Unlock()
	return worlds[name]
}

type testSourceConfig struct {
	World  string `yaml:"world"`
	Count  int    `yaml:"count"`
	Batch  int    `yaml:"batch"`
	Prefix string `yaml:"prefix"`
	// Follow keeps the source running after emitting Count events.
	Follow bool `yaml:"follow"`
	// Interval is a pause between batches.
	Interval time.Duration `yaml:"interval"`
	// StartError makes Start fail with this message.
	StartError string `yaml:"start_error"`
	// FailRuns makes the first FailRuns runs of this ID fail at once.
	FailRuns int `yaml:"fail_runs"`
}

// Start implements component.Starter, recording what it acquired.
func (s *testSource) Start(context.Context) error {
	if s.cfg.StartError != "" {
		return errors.New(s.cfg.StartError)
	}
	w := getWorld(s.cfg.World)
	w.mu.Lock()
	w.held[s.id]++
	w.mu.Unlock()
	s.started = true
	return nil
}

type testSource struct {
	cfg     *testSourceConfig
	id      string
	started bool
}

func (s *testSource) Run(ctx context.Context, emit component.Emit) error {
	w := getWorld(s.cfg.World)
	defer func() {
		if s.started { // release what Start acquired
			w.mu.Lock()
			w.held[s.id]--
			w.mu.Unlock()
		}
	}()
	if ctx.Err() != nil {
		return nil // never to run: release and go
	}
	w.mu.Lock()
	w.srcStarts[s.id]++
	runs := w.srcStarts[s.id]
	w.mu.Unlock()
	if runs <= s.cfg.FailRuns {
		return fmt.Errorf("injected failure %d", runs)
	}
	var pending sync.WaitGroup
	for i := 0; i < s.cfg.Count; {
		b := &event.Batch{}
		for j := 0; j < s.cfg.Batch && i < s.cfg.Count; j, i = j+1, i+1 {
			b.Events = append(b.Events, event.Event{Message: []byte(s.cfg.Prefix + strconv.Itoa(i))})
		}
		n := len(b.Events)
		pending.Add(1)
		b.Ack = ack.New(func(st ack.Status) {
			w.mu.Lock()
			w.acked[st] += n
			w.mu.Unlock()
			pending.Done()
		})
		if err := emit(ctx, b); err != nil {
			pending.Wait()
			return err
		}
		if s.cfg.Interval > 0 {
			select { // fake time: the tests run in synctest bubbles
			case <-time.After(s.cfg.Interval):
			case <-ctx.Done():
			}
		}
	}
	pending.Wait()
	if s.cfg.Follow {
		<-ctx.Done()
	}
	return nil
}

type testSinkConfig struct {
	World string `yaml:"world"`
	// Reject rejects events whose message ends in this suffix (per-event).
	Reject string `yaml:"reject"`
	// RetryOnce makes each event fail once with Retry before succeeding.
	RetryOnce bool `yaml:"retry_once"`
	// RetryAfter makes the first write fail with this Retry-After hint.
	RetryAfter time.Duration `yaml:"retry_after"`
}

type testSink struct {
	cfg  *testSinkConfig
	id   string
	seen map[string]bool
	// writes records when each Write was called.
	writes []time.Time
}

func (s *testSink) Write(ctx context.Context, b *event.Batch) error {
	w := getWorld(s.cfg.World)
	if w.gate != nil {
		select {
		case <-w.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.writes = append(s.writes, time.Now())
	if s.cfg.RetryAfter > 0 && len(s.writes) == 1 {
		return component.RetryAfter(s.cfg.RetryAfter, fmt.Errorf("injected 503"))
	}
	if f := w.failures[s.id]; f != nil && f.Add(-1) >= 0 {
		return fmt.Errorf("injected failure")
	}
	outcomes := make([]component.Outcome, len(b.Events))
	partial := false
	var ok []string
	for i, e := range b.Events {
		m := string(e.Message)
		switch {
		case s.cfg.Reject != "" && len(m) >= len(s.cfg.Reject) && m[len(m)-len(s.cfg.Reject):] == s.cfg.Reject:
			outcomes[i], partial = component.Reject, true
		case s.cfg.RetryOnce && !s.seen[m]:
			s.seen[m] = true
			outcomes[i], partial = component.Retry, true
		default:
			ok = append(ok, m)
		}
	}
	w.mu.Lock()
	w.delivered[s.id] = append(w.delivered[s.id], ok...)
	w.mu.Unlock()
	if partial {
		return &component.PartialError{Outcomes: outcomes, Err: fmt.Errorf("some failed")}
	}
	return nil
}

func (s *testSink) Close(context.Context) error { return nil }

type testUpperConfig struct {
	// DropSuffix drops events ending in it.
	DropSuffix string `yaml:"drop_suffix"`
}

type testUpper struct{ cfg *testUpperConfig }

func (t *testUpper) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	kept := b.Events[:0]
	for _, e := range b.Events {
		m := string(e.Message)
		if t.cfg.DropSuffix != "" && len(m) >= len(t.cfg.DropSuffix) && m[len(m)-len(t.cfg.DropSuffix):] == t.cfg.DropSuffix {
			continue
		}
		e.Message = append([]byte("T:"), e.Message...)
		kept = append(kept, e)
	}
	b.Events = kept
	return out(ctx, "", b)
}

// testSplitConfig routes even-numbered events to "even", the rest to "odd".
type testSplitConfig struct{}

func (*testSplitConfig) Outputs() []string { return []string{"even", "odd"} }

type testSplit struct{}

func (testSplit) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	even, odd := &event.Batch{Ack: b.Ack}, &event.Batch{Ack: b.Ack}
	for _, e := range b.Events {
		n, _ := strconv.Atoi(string(e.Message[len(e.Message)-1:]))
		if n%2 == 0 {
			even.Events = append(even.Events, e)
		} else {
			odd.Events = append(odd.Events, e)
		}
	}
	if err := out(ctx, "even", even); err != nil {
		return err
	}
	return out(ctx, "odd", odd)
}

func init() {
	component.MustRegister(component.SourceSpec("testsrc", "test source",
		func(c *testSourceConfig, d component.Deps) (component.Source, error) {
			return &testSource{cfg: c, id: d.ID}, nil
		}))
	component.MustRegister(component.SinkSpec("testsink", "test sink",
		func(c *testSinkConfig, d component.Deps) (component.Sink, error) {
			return &testSink{cfg: c, id: d.ID, seen: map[string]bool{}}, nil
		}))
	component.MustRegister(component.TransformSpec("testupper", "test transform",
		func(c *testUpperConfig, d component.Deps) (component.Transform, error) {
			return &testUpper{cfg: c}, nil
		}))
	component.MustRegister(component.TransformSpec("testsplit", "test router",
		func(c *testSplitConfig, d component.Deps) (component.Transform, error) { return testSplit{}, nil }))
}
