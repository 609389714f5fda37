// Package codec turns events into bytes for sinks: the json, text and
// logfmt encodings of docs/encodings.md, and a registry where more (syslog)
// are added.
//
// An Encoder appends exactly one record to a byte slice and nothing else:
// framing (the newline after each record in line-oriented output, the
// brackets of a JSON array) is the caller's job, so one encoder serves files,
// stdout and HTTP bodies alike. Encoders are stateless and safe for
// concurrent use, and they never drop bytes: invalid UTF-8 is escaped as
// \u00XX wherever the encoding quotes, and written raw where it does not.
package codec

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// Encoder appends one event to buf and returns the extended slice. It adds
// no trailing newline; sinks add their own framing.
type Encoder interface {
	Encode(buf []byte, e *event.Event) []byte
}

// EncoderFunc adapts a function to an Encoder.
type EncoderFunc func(buf []byte, e *event.Event) []byte

// Encode calls f.
func (f EncoderFunc) Encode(buf []byte, e *event.Event) []byte { return f(buf, e) }

// TimeLayout is how encoders write an event's timestamp: RFC 3339 in UTC
// with all nine digits of nanoseconds, so that timestamps sort as strings.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendTime appends t in TimeLayout, converted to UTC.
func AppendTime(buf []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(buf, TimeLayout)
}

var (
	mu       sync.RWMutex
	registry = map[string]Encoder{}
)

// Register makes an encoding available under name. It panics on an empty
// or duplicate name or a nil encoder: those are programming errors that must
// fail at start-up. Call it from init.
func Register(name string, enc Encoder) {
	if name == "" || enc == nil {
		panic(fmt.Sprintf("codec: registering %q: name and encoder are required", name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("codec: encoding %q registered twice", name))
	}
	registry[name] = enc
}

// Lookup returns the encoder registered under name.
func Lookup(name string) (Encoder, error) {
	mu.RLock()
	enc, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown encoding %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return enc, nil
}

// Names lists the registered encodings, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Reserved reports whether a field name is shadowed by one of the event's
// own attributes (timestamp, host, stream, message). Encoders that write
// the attributes skip such fields, as event.Event.Get does, so that no
// output carries the same key twice.
func Reserved(key string) bool {
	switch key {
	case event.KeyTimestamp, event.KeyHost, event.KeyStream, event.KeyMessage:
		return true
	}
	return false
}

func init() {
	Register("json", JSON)
	Register("text", Text)
	Register("logfmt", Logfmt)
}
