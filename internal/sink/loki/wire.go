package loki

import (
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-log/sluice/internal/event"
)

// stream is the entries of one label set in a push.
type stream struct {
	set     *labelSet
	entries []entry
}

// labelSet is a label set in Loki's text form, {a="b", c="d"} sorted by
// name (the protobuf labels field), and as name, value pairs (JSON).
type labelSet struct {
	str   string
	pairs []string
}

// entry is one log line.
type entry struct {
	ts   int64 // Unix nanoseconds
	line []byte
	idx  int // the event's index in the batch
}

// appendLabels appends name="value" to the text form of a label set being
// built in buf ("{" first, "}" by the caller).
func appendLabel(buf []byte, name string, value []byte) []byte {
	if len(buf) > 1 {
		buf = append(buf, ", "...)
	}
	buf = append(buf, name...)
	buf = append(buf, '=')
	return strconv.AppendQuote(buf, string(value))
}

// The Loki push protobuf (pkg/push/push.proto), encoded by hand with
// protowire:
//
//	message PushRequest   { repeated StreamAdapter streams = 1; }
//	message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
//	message EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2; }
//	message Timestamp     { int64 seconds = 1; int32 nanos = 2; }
//
// Fields are written in field-number order and zero scalars left out, as
// proto.Marshal does, so the bytes equal the reference encoding's.

// splitTime returns a Timestamp's seconds and nanos (0 <= nanos < 1e9).
func splitTime(ns int64) (int64, int64) {
	sec, nanos := ns/1e9, ns%1e9
	if nanos < 0 {
		sec, nanos = sec-1, nanos+1e9
	}
	return sec, nanos
}

func timestampSize(ns int64) int {
	sec, nanos := splitTime(ns)
	n := 0
	if sec != 0 {
		n += 1 + protowire.SizeVarint(uint64(sec))
	}
	if nanos != 0 {
		n += 1 + protowire.SizeVarint(uint64(nanos))
	}
	return n
}

func entrySize(e *entry) int {
	ts := timestampSize(e.ts)
	n := 1 + protowire.SizeVarint(uint64(ts)) + ts
	if len(e.line) > 0 {
		n += 1 + protowire.SizeBytes(len(e.line))
	}
	return n
}

func streamSize(s *stream) int {
	n := 0
	if s.set.str != "" {
		n += 1 + protowire.SizeBytes(len(s.set.str))
	}
	for i := range s.entries {
		n += 1 + protowire.SizeBytes(entrySize(&s.entries[i]))
	}
	return n
}

// appendPush appends the PushRequest of streams to buf.
func appendPush(buf []byte, streams []*stream) []byte {
	for _, s := range streams {
		buf = protowire.AppendTag(buf, 1, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(streamSize(s)))
		if s.set.str != "" {
			buf = protowire.AppendTag(buf, 1, protowire.BytesType)
			buf = protowire.AppendString(buf, s.set.str)
		}
		for i := range s.entries {
			e := &s.entries[i]
			buf = protowire.AppendTag(buf, 2, protowire.BytesType)
			buf = protowire.AppendVarint(buf, uint64(entrySize(e)))
			buf = protowire.AppendTag(buf, 1, protowire.BytesType)
			buf = protowire.AppendVarint(buf, uint64(timestampSize(e.ts)))
			sec, nanos := splitTime(e.ts)
			if sec != 0 {
				buf = protowire.AppendTag(buf, 1, protowire.VarintType)
				buf = protowire.AppendVarint(buf, uint64(sec))
			}
			if nanos != 0 {
				buf = protowire.AppendTag(buf, 2, protowire.VarintType)
				buf = protowire.AppendVarint(buf, uint64(nanos))
			}
			if len(e.line) > 0 {
				buf = protowire.AppendTag(buf, 2, protowire.BytesType)
				buf = protowire.AppendBytes(buf, e.line)
			}
		}
	}
	return buf
}

// appendJSON appends the JSON push body of streams to buf:
// {"streams":[{"stream":{"a":"b"},"values":[["<unix ns>","line"]]}]}.
func appendJSON(buf []byte, streams []*stream) []byte {
	buf = append(buf, `{"streams":[`...)
	for i, s := range streams {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"stream":{`...)
		for j := 0; j+1 < len(s.set.pairs); j += 2 {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = event.AppendJSONString(buf, s.set.pairs[j])
			buf = append(buf, ':')
			buf = event.AppendJSONString(buf, s.set.pairs[j+1])
		}
		buf = append(buf, `},"values":[`...)
		for j := range s.entries {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `["`...)
			buf = strconv.AppendInt(buf, s.entries[j].ts, 10)
			buf = append(buf, `",`...)
			buf = event.AppendJSONString(buf, s.entries[j].line)
			buf = append(buf, ']')
		}
		buf = append(buf, "]}"...)
	}
	return append(buf, "]}"...)
}
