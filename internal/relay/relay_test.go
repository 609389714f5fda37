package relay

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestBatchFraming(t *testing.T) {
	t.Parallel()
	msg := AppendBatchHeader(nil, FlagCompressed, 1<<40+7)
	msg = append(msg, "payload"...)
	flags, seq, payload, err := ParseBatch(msg)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []any{FlagCompressed, uint64(1<<40 + 7), "payload"}, []any{flags, seq, string(payload)})

	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"short", []byte{TypeBatch, 0, 0}},
		{"receipt type", AppendReceipt(nil, Receipt{Seq: 1})},
		{"unknown flag", AppendBatchHeader(nil, 0x80, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, _, err := ParseBatch(tc.msg); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestReceiptFraming(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   Receipt
		want Receipt
	}{
		{"delivered", Receipt{Seq: 1, Status: Delivered}, Receipt{Seq: 1, Status: Delivered}},
		{"rejected with reason", Receipt{Seq: 9, Status: Rejected, Reason: "bad"}, Receipt{Seq: 9, Status: Rejected, Reason: "bad"}},
		{"long reason cut at a rune", Receipt{Seq: 2, Status: Rejected, Reason: strings.Repeat("é", MaxReason)},
			Receipt{Seq: 2, Status: Rejected, Reason: strings.Repeat("é", MaxReason/2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseReceipt(AppendReceipt(nil, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, got)
		})
	}
	bad := AppendReceipt(nil, Receipt{Seq: 1})
	bad[1] = 4
	if _, err := ParseReceipt(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown status: got %v", err)
	}
	if _, err := ParseReceipt(AppendBatchHeader(nil, 0, 1)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("batch as receipt: got %v", err)
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   ack.Status
		want Status
		done bool
	}{
		{ack.Delivered, Delivered, true},
		{ack.Rejected, Rejected, true},
		{ack.Dropped, Dropped, true},
		{ack.Abandoned, Abandoned, false},
	} {
		t.Run(tc.in.String(), func(t *testing.T) {
			got := StatusOf(tc.in)
			if got != tc.want || got.Done() != tc.done || got.String() != tc.in.String() {
				t.Errorf("StatusOf(%v) = %v (done %v), want %v (done %v)", tc.in, got, got.Done(), tc.want, tc.done)
			}
		})
	}
}

func TestValidSender(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc-DEF_0.9", true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"a b", false},
		{"ä", false},
	} {
		if got := ValidSender(tc.id); got != tc.want {
			t.Errorf("ValidSender(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// fakePinger answers pings until dead is set, then blocks until the ping's
// context ends, like a peer that vanished.
type fakePinger struct {
	pings atomic.Int32
	dead  atomic.Bool
}

func (p *fakePinger) Ping(ctx context.Context) error {
	p.pings.Add(1)
	if p.dead.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func TestKeepalive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := &fakePinger{}
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- Keepalive(t.Context(), p, 20*time.Second, 5*time.Second) }()
		time.Sleep(61 * time.Second)
		if n := p.pings.Load(); n != 3 {
			t.Fatalf("after 61s: %d pings, want 3", n)
		}
		p.dead.Store(true)
		err := <-done
		if err == nil || !strings.Contains(err.Error(), "no pong") {
			t.Fatalf("got %v, want a keepalive error", err)
		}
		if took := time.Since(start); took != 85*time.Second {
			t.Errorf("dead peer noticed after %s, want 85s (next ping at 80s + 5s timeout)", took)
		}
	})
}

func TestKeepaliveStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- Keepalive(ctx, &fakePinger{}, time.Second, time.Second) }()
		time.Sleep(10 * time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("stopped keepalive returned %v", err)
		}
	})
}
