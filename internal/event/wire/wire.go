// Package wire is a compact binary encoding of event.Event batches, shared
// by the disk buffer's records and the relay protocol's batch messages
// (docs/relay-protocol.md, section 3, specifies it byte by byte).
//
// Messages, host, stream, keys and strings are kept byte-exact, invalid
// UTF-8 included; nil and empty messages, fields and arrays stay distinct,
// every value kind survives, and timestamps keep their UTC offset.
// Nesting is bounded by MaxDepth both ways. Decode treats its input as
// hostile: malformed payloads give an error wrapping ErrCorrupt, never a
// panic, and what it allocates is bounded by a small multiple of the
// payload's length.
package wire

import (
	"errors"
	"time"
)

// Version is the first byte of every payload.
const Version = 1

// headerSize is the version byte and the big-endian event count.
const headerSize = 5

// MaxDepth bounds the nesting of objects and arrays in fields: an Encoder
// refuses deeper events and Decode rejects deeper payloads.
const MaxDepth = 1000

// MaxZoneOffset bounds a timestamp's UTC offset in seconds. An Encoder
// writes a timestamp with a larger offset in UTC; Decode rejects one.
const MaxZoneOffset = 86400

// ErrCorrupt marks a payload that cannot be decoded.
var ErrCorrupt = errors.New("corrupt event batch")

// The payload of a batch (all varints as in encoding/binary):
//
//	payload: version u8 (=1) | count u32 big-endian | count × event
//	event:   varint unix seconds | uvarint nanoseconds (< 1e9)
//	         | varint zone offset seconds | ref host | ref stream
//	         | nbytes message | fields
//	ref:     uvarint 0 = same as the previous event's (empty for the
//	         first) | uvarint n+1 then n bytes
//	nbytes:  uvarint 0 = nil | uvarint n+1 then n bytes
//	fields:  uvarint 0 = nil | uvarint n+1 then n × (string key, value)
//	string:  uvarint n then n bytes
//	value:   kind u8 then 0 null | 1 string | 2 varint | 3 float64 bits u64
//	         big-endian | 4 bool u8 (0 or 1) | 5 varint unix nanoseconds
//	         | 6 fields | 7 array: uvarint 0 = nil | n+1 then n × value

// Wire kinds of values. They are fixed by the format and happen to equal
// event.Kind's values, but are kept apart so that the format does not move
// when event.Kind does.
const (
	kindNull byte = iota
	kindString
	kindInt
	kindFloat
	kindBool
	kindTime
	kindObject
	kindArray
)

// Minimum encoded sizes, which Decode checks counts against before
// allocating: an event takes at least seven bytes (seconds, nanoseconds,
// zone, host, stream, message, fields: one byte each), a field two (empty
// key, null kind) and an array element one.
const (
	minEvent = 7
	minField = 2
	minValue = 1
)

// timeZone converts a zone offset to a location, reusing the last one.
type timeZone struct {
	off int
	loc *time.Location
}

func (z *timeZone) get(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if z.loc == nil || z.off != off {
		z.off, z.loc = off, time.FixedZone("", off)
	}
	return z.loc
}

// time builds a timestamp; seconds far outside the representable range
// are clamped so that the result stays well defined.
func (z *timeZone) time(sec int64, nsec uint64, off int) time.Time {
	const limit = 1 << 62
	sec = max(min(sec, limit), -limit)
	return time.Unix(sec, int64(nsec)).In(z.get(off))
}
