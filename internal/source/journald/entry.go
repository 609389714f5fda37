package journald

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

var severities = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// decodeEntry turns one line of `journalctl -o json` into an event and the
// entry's cursor. Values are strings, or arrays of bytes for values that
// are not valid UTF-8 (or longer than journalctl will print as text), or
// arrays of either for fields that repeat.
func decodeEntry(line []byte) (event.Event, string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return event.Event{}, "", fmt.Errorf("decoding journal entry: %w", err)
	}
	var e event.Event
	var cursor string
	if c, ok := raw["__CURSOR"]; ok {
		cursor, _ = str(c)
	}
	if cursor == "" {
		return e, "", errors.New("journal entry without __CURSOR")
	}
	if ts, ok := raw["__REALTIME_TIMESTAMP"]; ok {
		s, _ := str(ts)
		if us, err := strconv.ParseInt(s, 10, 64); err == nil {
			e.Timestamp = time.UnixMicro(us).UTC()
		}
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = time.Now().UTC()
	}
	for k, v := range raw {
		switch {
		case k == "MESSAGE":
			e.Message = value(v)
		case k == "_HOSTNAME":
			h, _ := str(v)
			e.Host = h
		case k == "PRIORITY":
			p, _ := str(v)
			if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < len(severities) {
				e.Fields = append(e.Fields, event.Field{Key: "severity", Value: event.String(severities[n])})
			}
			e.Fields = append(e.Fields, event.Field{Key: k, Value: event.String(p)})
		case strings.HasPrefix(k, "__"):
			// Cursor, timestamps and other journal bookkeeping.
		default:
			e.Fields = append(e.Fields, event.Field{Key: k, Value: event.String(string(value(v)))})
		}
	}
	e.Stream = firstOf(e.Fields, "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_COMM")
	if e.Stream == "" {
		e.Stream = "journald"
	}
	sortFields(e.Fields)
	return e, cursor, nil
}

// value decodes a string, a byte array, or for repeated fields the first
// of an array of either.
func value(v json.RawMessage) []byte {
	if s, ok := str(v); ok {
		return []byte(s)
	}
	var bytesArr []int
	if json.Unmarshal(v, &bytesArr) == nil {
		out := make([]byte, len(bytesArr))
		for i, b := range bytesArr {
			out[i] = byte(b)
		}
		return out
	}
	var many []json.RawMessage
	if json.Unmarshal(v, &many) == nil && len(many) > 0 {
		return value(many[0])
	}
	return []byte(v)
}

func str(v json.RawMessage) (string, bool) {
	var s string
	err := json.Unmarshal(v, &s)
	return s, err == nil
}

func firstOf(f event.Fields, keys ...string) string {
	for _, k := range keys {
		if v, ok := f.Get(k); ok && v.Str() != "" {
			return v.Str()
		}
	}
	return ""
}

// sortFields orders fields by key so output does not depend on map order.
func sortFields(f event.Fields) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Key < f[j-1].Key; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}
