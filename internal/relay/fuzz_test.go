package relay

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzDecode feeds arbitrary payloads to Decode: it must not panic, must
// fail only with ErrCorrupt, and whatever it accepts must encode back to
// the same events.
func FuzzDecode(f *testing.F) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600))
	for _, evs := range [][]event.Event{
		{},
		{{Timestamp: ts, Host: "h", Stream: "s", Message: []byte("m\xff")}},
		{{Host: "h", Message: []byte("a")}, {Host: "h", Message: nil, Fields: event.Fields{
			{Key: "i", Value: event.Int(-3)}, {Key: "f", Value: event.Float(0.5)}, {Key: "b", Value: event.Bool(true)},
			{Key: "t", Value: event.Time(ts)}, {Key: "o", Value: event.Object(event.Fields{{Key: "n", Value: event.Null()}})},
			{Key: "a", Value: event.Array([]event.Value{event.String("x")})},
		}}},
	} {
		f.Add(encode(f, evs))
	}
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, payload []byte) {
		evs, err := Decode(payload)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		again, err := Decode(encode(t, evs))
		if err != nil {
			t.Fatalf("re-encoded events do not decode: %v", err)
		}
		testutil.Diff(t, evs, again, eventOpts)
	})
}

// FuzzMessages feeds arbitrary bytes to every message parser and to
// Decompress: no panic, only ErrCorrupt, and accepted receipts survive a
// round trip.
func FuzzMessages(f *testing.F) {
	f.Add(AppendBatchHeader(nil, FlagCompressed, 7))
	f.Add(AppendReceipt(nil, Receipt{Seq: 3, Status: Rejected, Reason: "no"}))
	f.Add(Compress(nil, []byte("hello hello hello hello")))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, _, _, err := ParseBatch(msg); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ParseBatch: %v", err)
		}
		if r, err := ParseReceipt(msg); err == nil {
			back, err := ParseReceipt(AppendReceipt(nil, r))
			if err != nil || back != r {
				t.Fatalf("receipt round trip: %+v → %+v, %v", r, back, err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ParseReceipt: %v", err)
		}
		out, err := Decompress(msg, 1<<16)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Decompress: %v", err)
		}
		if len(out) > 1<<16 {
			t.Fatalf("Decompress produced %d bytes over its limit", len(out))
		}
	})
}
