package parse

import (
	"math"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
	"github.com/sluice-log/sluice/internal/parser/combined"
)

// RawTimestampField keeps a top-level "timestamp" value that could not be
// read as a time, so it is neither lost nor hidden behind the attribute.
const RawTimestampField = "timestamp_raw"

// merge applies the fields parsed into f[start:] to e: reserved names set
// the event's attributes, the rest replace or join the fields in f[:start].
// It compacts f in place and returns it.
func merge(e *event.Event, f event.Fields, start int) event.Fields {
	if start == 0 && !hasReserved(f) {
		return f // parsers return unique keys: nothing to do
	}
	out := f[:start]
	for _, fl := range f[start:] {
		fl, keep := setAttribute(e, fl)
		switch {
		case !keep:
		case start > 0 || fl.Key == RawTimestampField:
			out.Set(fl.Key, fl.Value)
		default:
			out = append(out, fl)
		}
	}
	clear(f[len(out):])
	return out
}

func hasReserved(f event.Fields) bool {
	for i := range f {
		switch f[i].Key {
		case event.KeyMessage, event.KeyHost, event.KeyStream, event.KeyTimestamp:
			return true
		}
	}
	return false
}

// setAttribute sets e's attribute when fl is named after one, reporting
// false when fl is used up. An unreadable timestamp comes back renamed.
func setAttribute(e *event.Event, fl event.Field) (event.Field, bool) {
	switch fl.Key {
	case event.KeyMessage, event.KeyHost, event.KeyStream:
		e.Set(fl.Key, fl.Value)
		return fl, false
	case event.KeyTimestamp:
		if ts, ok := toTime(fl.Value); ok {
			e.Timestamp = ts
			return fl, false
		}
		return event.Field{Key: RawTimestampField, Value: fl.Value}, true
	}
	return fl, true
}

// toTime reads a timestamp: an RFC 3339 or similar ISO 8601 string (see
// timeLayouts), an access-log time
// ("10/Oct/2000:13:55:36 -0700"), or a number (or numeric string) of epoch
// seconds, milliseconds, microseconds or nanoseconds, told apart by size.
func toTime(v event.Value) (time.Time, bool) {
	switch v.Kind() {
	case event.KindTime:
		return v.Time(), true
	case event.KindInt:
		i, _ := v.Int()
		return epoch(float64(i), i)
	case event.KindFloat:
		f, _ := v.Float()
		return epoch(f, 0)
	case event.KindString:
		return parseTimeString(v.Str())
	}
	return time.Time{}, false
}

// timeLayouts are the ISO 8601 forms a timestamp string may take; the
// ones without an offset are read as UTC. Fractions of a second after a
// '.' or ',' are accepted by time.Parse without being in the layout.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

func parseTimeString(s string) (time.Time, bool) {
	if len(s) >= len("2006-01-02T15:04:05") && s[4] == '-' {
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	if t, ok := combined.ParseTime(parser.Bytes(s)); ok {
		return t, true
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return epoch(float64(i), i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return epoch(f, 0)
	}
	return time.Time{}, false
}

// epoch converts a number of seconds (below 1e11, i.e. before the year
// 5138), milliseconds (below 1e14), microseconds (below 1e17) or
// nanoseconds. exact is the same number as an integer, or 0 for a float.
func epoch(f float64, exact int64) (time.Time, bool) {
	abs := math.Abs(f)
	if exact != 0 {
		switch {
		case abs < 1e11:
			return time.Unix(exact, 0).UTC(), true
		case abs < 1e14:
			return time.UnixMilli(exact).UTC(), true
		case abs < 1e17:
			return time.UnixMicro(exact).UTC(), true
		}
		return time.Unix(0, exact).UTC(), true
	}
	if math.IsNaN(f) || abs >= 9e18 {
		return time.Time{}, false
	}
	scale := 1.0
	switch {
	case abs >= 1e17:
		scale = 1e9
	case abs >= 1e14:
		scale = 1e6
	case abs >= 1e11:
		scale = 1e3
	}
	sec := math.Floor(f / scale)
	nsec := math.Round((f/scale - sec) * 1e9)
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}
