package relay

import (
	"errors"
	"testing"
)

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
