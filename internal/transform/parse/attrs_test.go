package parse

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestToTime(t *testing.T) {
	t.Parallel()
	base := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC) // Unix 1700000000
	for _, tc := range []struct {
		name string
		in   event.Value
		want time.Time // zero: not a time
	}{
		{name: "RFC 3339", in: event.String("2023-11-14T22:13:20Z"), want: base},
		{name: "RFC 3339 with offset and nanos", in: event.String("2023-11-15T00:13:20.000000001+02:00"), want: base.Add(1)},
		{name: "space separator", in: event.String("2023-11-14 22:13:20Z"), want: base},
		{name: "offset without colon", in: event.String("2023-11-14T23:13:20+0100"), want: base},
		{name: "no offset is UTC, comma fraction", in: event.String("2023-11-14 22:13:20,5"), want: base.Add(5e8)},
		{name: "access-log time", in: event.String("14/Nov/2023:23:13:20 +0100"), want: base},
		{name: "numeric string", in: event.String("1700000000"), want: base},
		{name: "seconds", in: event.Int(1700000000), want: base},
		{name: "negative seconds", in: event.Int(-86400), want: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{name: "millis", in: event.Int(1700000000123), want: base.Add(123 * time.Millisecond)},
		{name: "micros", in: event.Int(1700000000123456), want: base.Add(123456 * time.Microsecond)},
		{name: "nanos", in: event.Int(1700000000123456789), want: base.Add(123456789)},
		{name: "float seconds", in: event.Float(1700000000.5), want: base.Add(5e8)},
		{name: "float millis", in: event.Float(1700000000250), want: base.Add(250 * time.Millisecond)},
		{name: "zero", in: event.Int(0), want: time.Unix(0, 0).UTC()},
		{name: "time value", in: event.Time(base), want: base},
		{name: "words", in: event.String("yesterday")},
		{name: "date only", in: event.String("2023-11-14")},
		{name: "NaN", in: event.String("NaN")},
		{name: "huge float", in: event.Float(1e300)},
		{name: "bool", in: event.Bool(true)},
		{name: "object", in: event.Object(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := toTime(tc.in)
			if ok != !tc.want.IsZero() {
				t.Fatalf("toTime(%v) ok = %v, want %v", tc.in.Any(), ok, !tc.want.IsZero())
			}
			if ok {
				testutil.Diff(t, tc.want, got)
			}
		})
	}
}
