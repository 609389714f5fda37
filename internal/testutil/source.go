package testutil

import (
	"context"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
)

// Running is a source started by StartSource.
type Running struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	err    error
}

// StartSource runs src.Run with emit in a goroutine until Stop is called
// or the test ends; at the end of the test it waits for Run to return and
// fails t if Run returned an error.
//
// A component.Starter is started first, as the pipeline does, and a Start
// error fails t at once.
func StartSource(t testing.TB, src component.Source, emit component.Emit) *Running {
	t.Helper()
	if st, ok := src.(component.Starter); ok {
		if err := st.Start(t.Context()); err != nil {
			t.Fatalf("starting source: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = src.Run(ctx, emit)
	}()
	t.Cleanup(func() {
		if err := r.Wait(); err != nil {
			t.Errorf("source run: %v", err)
		}
	})
	return r
}

// Stop cancels Run's context and returns a channel closed once Run has
// returned. It may be called more than once.
func (r *Running) Stop() <-chan struct{} {
	r.once.Do(r.cancel)
	return r.done
}

// Wait stops the source, waits for Run to return and returns its error.
func (r *Running) Wait() error {
	<-r.Stop()
	return r.err
}
