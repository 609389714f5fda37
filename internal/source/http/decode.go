package httpsource

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/syslog"
)

// decode reads the body into events, returning an HTTP status for errors.
func (s *Source) decode(r *http.Request) ([]event.Event, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, int64(s.cfg.MaxBodySize)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", s.cfg.MaxBodySize)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	now := time.Now().UTC()
	stream := s.cfg.Stream
	if q := r.URL.Query().Get("stream"); q != "" {
		stream = q
	}
	switch format := s.format(r, body); format {
	case "logplex":
		return s.logplex(r, body, now)
	case "syslog":
		return s.syslogLines(r, body, now), 0, nil
	case "text":
		return s.textLines(body, now, stream, r), 0, nil
	case "ndjson":
		return s.ndjson(body, now, stream, remoteHost(r))
	default:
		return s.json(body, now, stream, remoteHost(r))
	}
}

// format picks the decoder: the configured one, or by Content-Type, or by
// the first byte of the body.
func (s *Source) format(r *http.Request, body []byte) string {
	if s.cfg.Format != "auto" {
		return s.cfg.Format
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/logplex-1":
		return "logplex"
	case "application/x-ndjson", "application/ndjson", "application/jsonlines", "application/x-jsonlines":
		return "ndjson"
	case "application/syslog", "text/syslog":
		return "syslog"
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return "json"
	case len(trimmed) > 0 && trimmed[0] == '{':
		// One object, or one object per line.
		if i := bytes.IndexByte(trimmed, '\n'); i >= 0 && json.Valid(trimmed[:i]) {
			return "ndjson"
		}
		return "json"
	case mt == "application/json":
		return "json"
	}
	return "syslog"
}

func (s *Source) json(body []byte, now time.Time, stream, host string) ([]event.Event, int, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []event.Event{s.fromObject(t, now, stream, host)}, 0, nil
	case []any:
		out := make([]event.Event, 0, len(t))
		for i, x := range t {
			obj, ok := x.(map[string]any)
			if !ok {
				return nil, http.StatusBadRequest, fmt.Errorf("element %d of the array is not an object", i)
			}
			out = append(out, s.fromObject(obj, now, stream, host))
		}
		return out, 0, nil
	}
	return nil, http.StatusBadRequest, errors.New("JSON body must be an object or an array of objects")
}

func (s *Source) ndjson(body []byte, now time.Time, stream, host string) ([]event.Event, int, error) {
	var out []event.Event
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), int(s.cfg.MaxBodySize)+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("line %d: invalid JSON object: %w", n, err)
		}
		out = append(out, s.fromObject(obj, now, stream, host))
	}
	return out, 0, nil
}

// fromObject maps a JSON object to an event. The keys message, host,
// stream and timestamp set the event's own attributes; so do the keys of
// logtrain's event packet (hostname, tag, time). Everything else is a
// field. host defaults to the sender's address.
func (s *Source) fromObject(obj map[string]any, now time.Time, stream, host string) event.Event {
	e := event.Event{Timestamp: now, Host: host, Stream: stream}
	for _, k := range []struct{ key, attr string }{
		{"hostname", event.KeyHost}, {"tag", event.KeyStream}, {"time", event.KeyTimestamp},
		{event.KeyHost, event.KeyHost}, {event.KeyStream, event.KeyStream},
		{event.KeyTimestamp, event.KeyTimestamp}, {event.KeyMessage, event.KeyMessage},
	} {
		v, ok := obj[k.key]
		if !ok {
			continue
		}
		if setAttr(&e, k.attr, v) {
			delete(obj, k.key)
		}
	}
	for key, v := range obj {
		e.Fields = append(e.Fields, event.Field{Key: key, Value: fromJSON(v)})
	}
	sortFields(e.Fields)
	return e
}

func setAttr(e *event.Event, attr string, v any) bool {
	if attr == event.KeyTimestamp {
		switch t := v.(type) {
		case string:
			return e.Set(attr, event.String(t))
		case json.Number:
			f, err := t.Float64()
			if err != nil {
				return false
			}
			if f > 1e12 { // milliseconds
				e.Timestamp = time.UnixMilli(int64(f)).UTC()
			} else {
				e.Timestamp = time.Unix(0, int64(f*1e9)).UTC()
			}
			return true
		}
		return false
	}
	if s, ok := v.(string); ok {
		return e.Set(attr, event.String(s))
	}
	return e.Set(attr, fromJSON(v))
}

// fromJSON converts decoded JSON, keeping integers as integers.
func fromJSON(v any) event.Value {
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return event.Int(i)
		}
		f, _ := t.Float64()
		return event.Float(f)
	case map[string]any:
		f := make(event.Fields, 0, len(t))
		for k, x := range t {
			f = append(f, event.Field{Key: k, Value: fromJSON(x)})
		}
		sortFields(f)
		return event.Object(f)
	case []any:
		a := make([]event.Value, len(t))
		for i, x := range t {
			a[i] = fromJSON(x)
		}
		return event.Array(a)
	}
	return event.FromAny(v)
}

func sortFields(f event.Fields) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Key < f[j-1].Key; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// logplex decodes octet-counted RFC 5424 frames, checking the frame count
// against the Logplex-Msg-Count header when there is one.
func (s *Source) logplex(r *http.Request, body []byte, now time.Time) ([]event.Event, int, error) {
	out, err := syslogFrames(r, body, int(s.cfg.MaxBodySize), now)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("logplex body: %w", err)
	}
	if h := r.Header.Get("Logplex-Msg-Count"); h != "" {
		if n, err := strconv.Atoi(h); err == nil && n != len(out) {
			return nil, http.StatusBadRequest, fmt.Errorf("Logplex-Msg-Count says %d messages, the body has %d", n, len(out))
		}
	}
	return out, 0, nil
}

// syslogLines decodes one syslog message per line (or octet-counted
// frames); a body can hold no frame too large to read.
func (s *Source) syslogLines(r *http.Request, body []byte, now time.Time) []event.Event {
	out, _ := syslogFrames(r, body, len(body)+1, now)
	return out
}

// syslogFrames decodes the syslog frames of body into events.
func syslogFrames(r *http.Request, body []byte, maxSize int, now time.Time) ([]event.Event, error) {
	rd := syslog.NewReader(bytes.NewReader(body), maxSize)
	var dec syslog.Decoder
	var out []event.Event
	for {
		frame, err := rd.Next()
		if len(frame) > 0 {
			var e event.Event
			dec.Decode(frame, now, remoteHost(r), &e)
			out = append(out, e)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func (s *Source) textLines(body []byte, now time.Time, stream string, r *http.Request) []event.Event {
	var out []event.Event
	for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
		out = append(out, event.Event{Timestamp: now, Host: remoteHost(r), Stream: stream, Message: bytes.Clone(line)})
	}
	return out
}

func remoteHost(r *http.Request) string {
	host := r.RemoteAddr
	if i := bytes.LastIndexByte([]byte(host), ':'); i > 0 {
		host = host[:i]
	}
	return host
}
