// Package parser holds what sluice's line parsers share: the zero-copy
// string view of input bytes and the last-wins de-duplication of keys.
//
// Each format lives in its own sub-package (json, logfmt, combined, regex,
// grok) as a pure function from a line to event.Fields, with no knowledge
// of events, batches or config. Parsers never write into their input and
// may return strings that alias it: this relies on event.Event.Message
// being immutable once emitted, so a view stays valid for the event's life.
package parser

import (
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
)

// View returns b as a string without copying. The caller promises that b
// is never modified afterwards (event messages never are).
func View(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Bytes returns the bytes of s without copying; they must not be modified.
func Bytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// Unique removes duplicate keys from f[start:] in place: the value of the
// last occurrence wins, at the position of the first, as with repeated
// Fields.Set calls. Fields before start are assumed unique already and are
// not compared. A cheap 64-bit signature of each key skips the quadratic
// comparison unless two keys look alike.
func Unique(f event.Fields, start int) event.Fields {
	var seen uint64
	dup := false
	for i := start; i < len(f); i++ {
		bit := uint64(1) << (keySig(f[i].Key) & 63)
		if seen&bit != 0 {
			dup = true
			break
		}
		seen |= bit
	}
	if !dup {
		return f
	}
	out := f[:start]
	for _, fl := range f[start:] {
		out = setFrom(out, start, fl)
	}
	clear(f[len(out):])
	return out
}

func setFrom(f event.Fields, start int, fl event.Field) event.Fields {
	for j := start; j < len(f); j++ {
		if f[j].Key == fl.Key {
			f[j].Value = fl.Value
			return f
		}
	}
	return append(f, fl)
}

func keySig(k string) uint {
	if k == "" {
		return 0
	}
	return uint(len(k))*31 + uint(k[0])*7 + uint(k[len(k)-1])
}

// Hex4 decodes the four hex digits at the start of b (a \uXXXX escape).
func Hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
