package wire

import (
	"errors"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzDecode feeds arbitrary payloads to Decode: it must not panic, must
// fail only with ErrCorrupt, and whatever it accepts must encode back to
// the same events. testdata/fuzz/FuzzDecode also holds the corpus of the
// disk buffer's former codec.
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
		{{Host: "h", Stream: "s", Message: []byte("hello"), Timestamp: time.Unix(1, 2)}},
		{{Fields: testutil.AllKinds()}},
		{{}, {Message: []byte{}}},
	} {
		f.Add(encode(f, evs))
	}
	f.Add([]byte{Version, 0xff, 0xff, 0xff, 0xff, 0})
	f.Add([]byte{Version, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, payload []byte) {
		evs, err := Decode(payload)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if len(evs) > len(payload)/minEvent {
			t.Fatalf("%d events from %d bytes", len(evs), len(payload))
		}
		again, err := Decode(encode(t, evs))
		if err != nil {
			t.Fatalf("re-encoded events do not decode: %v", err)
		}
		testutil.Diff(t, evs, again, eventOpts)
	})
}
