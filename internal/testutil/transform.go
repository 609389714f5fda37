package testutil

import (
	"context"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// Emitted is one batch a transform passed on, and the output it went to
// ("" for the default output).
type Emitted struct {
	Output string
	Batch  *event.Batch
}

// RunTransform feeds in through tr the way the pipeline does and returns
// what tr emitted, failing t if Process fails. See RunTransformFailing for
// what it checks.
func RunTransform(t testing.TB, tr component.Transform, in *event.Batch) []Emitted {
	t.Helper()
	got, err := RunTransformFailing(t, tr, in, 0)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return got
}

// RunTransformFailing feeds in through tr the way the pipeline does: in
// gets a fresh ack token; the output retains it once per emitted batch, or
// fails with context.Canceled from its failAt-th call on when failAt is
// positive; the pipeline releases its own hold after Process (Abandoned if
// Process failed); downstream then releases every emitted batch. It fails
// t unless every emitted batch carries in's token, no batch is emitted
// twice, and the token completes exactly once, only after downstream is
// done. It returns what was emitted and Process's error.
func RunTransformFailing(t testing.TB, tr component.Transform, in *event.Batch, failAt int) ([]Emitted, error) {
	t.Helper()
	done := 0
	tok := ack.New(func(ack.Status) { done++ })
	in.Ack = tok
	var got []Emitted
	out := func(_ context.Context, name string, b *event.Batch) error {
		if failAt > 0 && len(got)+1 >= failAt {
			return context.Canceled
		}
		b.Ack.Retain(1)
		for _, g := range got {
			if g.Batch == b {
				t.Errorf("batch object emitted twice (outputs %q and %q)", g.Output, name)
			}
		}
		got = append(got, Emitted{Output: name, Batch: b})
		return nil
	}
	err := tr.Process(t.Context(), in, out)
	if err != nil {
		tok.Release(ack.Abandoned)
	} else {
		tok.Release(ack.Delivered)
	}
	if len(got) > 0 && done != 0 {
		t.Fatal("ack token completed while emitted batches were still held")
	}
	for _, g := range got {
		if g.Batch.Ack != tok {
			t.Fatalf("batch for output %q does not carry the input's ack token", g.Output)
		}
		g.Batch.Ack.Release(ack.Delivered)
	}
	if done != 1 {
		t.Fatalf("ack token completed %d times, want 1", done)
	}
	return got, err
}

// BenchTransform is the loop of a transform's Process benchmark: each
// iteration passes a fresh copy of src (into a batch allocated once) to
// tr, whose output discards what it gets. It reports allocations.
func BenchTransform(b *testing.B, tr component.Transform, src []event.Event) {
	b.Helper()
	batch := &event.Batch{Events: make([]event.Event, 0, len(src))}
	out := func(context.Context, string, *event.Batch) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		batch.Events = append(batch.Events[:0], src...)
		if err := tr.Process(context.Background(), batch, out); err != nil {
			b.Fatal(err)
		}
	}
}
