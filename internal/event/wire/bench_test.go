package wire

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// withFields adds six parsed fields to each event, as a parse transform
// would.
func withFields(evs []event.Event) []event.Event {
	for i := range evs {
		evs[i].Fields = event.Fields{
			{Key: "remote_addr", Value: event.String("10.1.2.3")},
			{Key: "method", Value: event.String("GET")},
			{Key: "status", Value: event.Int(200)},
			{Key: "bytes", Value: event.Int(int64(i))},
			{Key: "rt", Value: event.Float(0.25)},
			{Key: "tags", Value: event.Array([]event.Value{event.String("a"), event.String("b")})},
		}
	}
	return evs
}

// benchCase makes a batch of 1000 events of 200-byte messages. Each
// benchmark makes its own, so that no other case's events are live.
type benchCase struct {
	name   string
	events func() []event.Event
}

func benchCases() []benchCase {
	return []benchCase{
		{"plain", func() []event.Event { return testutil.AccessLogEvents(1000) }},
		{"fields", func() []event.Event { return withFields(testutil.AccessLogEvents(1000)) }},
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, tc := range benchCases() {
		b.Run(tc.name, func(b *testing.B) {
			evs := tc.events()
			var e Encoder
			buf := make([]byte, 0, 512<<10)
			b.ReportAllocs()
			b.SetBytes(200 * int64(len(evs)))
			for b.Loop() {
				e.Reset(buf[:0])
				for i := range evs {
					_ = e.Append(&evs[i])
				}
				buf = e.Bytes()
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range benchCases() {
		b.Run(tc.name, func(b *testing.B) {
			evs := tc.events()
			payload := encode(b, evs)
			b.ReportAllocs()
			b.SetBytes(200 * int64(len(evs)))
			for b.Loop() {
				if _, err := Decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
