package nats

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	jsonparser "github.com/sluice-log/sluice/internal/parser/json"
)

// decode fills e from data, an event in sluice's json encoding: the
// timestamp (RFC 3339), host, stream and message members become the
// event's attributes, every other member a field, in order. A missing
// timestamp is now; a payload that is not a JSON object, or whose
// attributes have the wrong type, is an error.
func decode(data []byte, e *event.Event, now time.Time) error {
	fields, err := jsonparser.Parse(nil, data)
	if err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	*e = event.Event{Timestamp: now}
	keep := fields[:0]
	for _, f := range fields {
		switch f.Key {
		case event.KeyTimestamp:
			if f.Value.Kind() != event.KindString {
				return errors.New("decoding event: timestamp is not a string")
			}
			t, err := time.Parse(time.RFC3339Nano, f.Value.Str())
			if err != nil {
				return fmt.Errorf("decoding event: timestamp: %w", err)
			}
			e.Timestamp = t
		case event.KeyHost, event.KeyStream, event.KeyMessage:
			if f.Value.Kind() != event.KindString {
				return fmt.Errorf("decoding event: %s is not a string", f.Key)
			}
			switch f.Key {
			case event.KeyHost:
				e.Host = f.Value.Str()
			case event.KeyStream:
				e.Stream = f.Value.Str()
			default:
				e.Message = []byte(f.Value.Str())
			}
		default:
			keep = append(keep, f)
		}
	}
	if len(keep) > 0 {
		e.Fields = keep
	}
	return nil
}
