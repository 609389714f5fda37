package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// The shapes of the live API's SSE events, for clients (`sluice tail`,
// tests) written in Go.

// Lines is the data of a "lines" event.
type Lines struct {
	Lines []Line `json:"lines"`
	// Behind is how many lines of the followed streams the server holds
	// past this frame (follow only).
	Behind uint64 `json:"behind"`
}

// Line is one backlog line.
type Line struct {
	Stream    string          `json:"stream"`
	Seq       uint64          `json:"seq"`
	Timestamp string          `json:"timestamp"`
	Event     json.RawMessage `json:"event"` // the json encoding of the event
}

// Skipped is the data of a "skipped" event: the viewer fell behind the
// ring of Stream, and the lines FromSeq to ToSeq-1 (Skipped of them) are
// gone.
type Skipped struct {
	Stream  string `json:"stream"`
	Skipped uint64 `json:"skipped"`
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
}

// maxSSELine bounds one SSE line a client accepts (a frame's data line).
const maxSSELine = 64 << 20

// ReadSSE reads server-sent events from r and calls fn with each event's
// type ("message" when it has none) and data, until r ends, fn returns an
// error, or a line is longer than 64 MiB. Comments (heartbeats) are
// skipped. Multi-line data is joined with newlines, as the SSE spec says.
func ReadSSE(r io.Reader, fn func(typ string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	typ := ""
	var data []byte
	has := false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if has {
				if typ == "" {
					typ = "message"
				}
				if err := fn(typ, data); err != nil {
					return err
				}
			}
			typ, data, has = "", data[:0], false
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				typ = string(value)
			case "data":
				if has {
					data = append(data, '\n')
				}
				data, has = append(data, value...), true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	return nil
}
