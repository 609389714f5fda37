package parse

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestAckReleasedOnce drives Process the way the pipeline does: out takes
// one more hold on the batch's token, and the pipeline drops its own hold
// once Process returns. Whatever on_error does, the token must complete
// exactly once, after the downstream holder is done, as delivered.
func TestAckReleasedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		onError string
		in      []string
		want    []string // messages passed on
	}{
		{name: "keep", onError: OnErrorKeep, in: []string{`{"a":1}`, `bad`, `{"b":2}`}, want: []string{`{"a":1}`, `bad`, `{"b":2}`}},
		{name: "tag", onError: OnErrorTag, in: []string{`{"a":1}`, `bad`, `{"b":2}`}, want: []string{`{"a":1}`, `bad`, `{"b":2}`}},
		{name: "drop", onError: OnErrorDrop, in: []string{`{"a":1}`, `bad`, `{"b":2}`}, want: []string{`{"a":1}`, `{"b":2}`}},
		{name: "drop everything", onError: OnErrorDrop, in: []string{`bad`, `worse`}, want: nil},
		{name: "empty batch", onError: OnErrorDrop, in: nil, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTransform(t, cfg("json", func(c *Config) { c.OnError = tc.onError }))
			var calls atomic.Int32
			var status atomic.Uint32
			tok := ack.New(func(s ack.Status) { calls.Add(1); status.Store(uint32(s)) })
			b := &event.Batch{Ack: tok}
			for _, m := range tc.in {
				b.Events = append(b.Events, msg(m))
			}

			var outs []*event.Batch
			var out component.Output = func(_ context.Context, _ string, ob *event.Batch) error {
				ob.Ack.Retain(1) // as the pipeline's output does
				outs = append(outs, ob)
				return nil
			}
			if err := tr.Process(context.Background(), b, out); err != nil {
				t.Fatal(err)
			}
			tok.Release(ack.Delivered) // the pipeline's own hold
			if n := calls.Load(); n != 0 && len(outs) > 0 {
				t.Fatalf("token completed %d times before downstream released it", n)
			}
			var got []string
			for _, ob := range outs {
				if ob.Ack != tok {
					t.Errorf("passed-on batch carries token %p, want %p", ob.Ack, tok)
				}
				for _, e := range ob.Events {
					got = append(got, string(e.Message))
				}
				ob.Ack.Release(ack.Delivered) // downstream delivered it
			}
			if n := calls.Load(); n != 1 {
				t.Fatalf("token completed %d times, want once", n)
			}
			if s := ack.Status(status.Load()); s != ack.Delivered {
				t.Errorf("token status %v, want delivered", s)
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}
