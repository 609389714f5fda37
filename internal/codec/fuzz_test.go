package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
)

// escaped is what a JSON or logfmt reader gets back for s: valid UTF-8
// unchanged, each invalid byte as the rune of the same value (\u00XX).
func escaped(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(rune(s[i]))
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

func fuzzEvent(host, stream string, msg []byte, key, val string, n int64) event.Event {
	return event.Event{
		Timestamp: time.Unix(0, n), Host: host, Stream: stream, Message: msg,
		Fields: event.Fields{
			{Key: key, Value: event.String(val)},
			{Key: "n", Value: event.Int(n)},
			{Key: "obj", Value: event.Object(event.Fields{{Key: val, Value: event.String(key)}})},
		},
	}
}

func addSeeds(f *testing.F) {
	f.Add("web1", "api", []byte("GET / 200"), "status", "ok", int64(1))
	f.Add("h\xff", "", []byte("a\x00b\xc3"), "k=v", "a b\"c", int64(-1))
	f.Add("", "s", []byte("\u2028\u2029\t\r\n"), "", "", int64(1<<62))
	f.Add("message", "x", []byte(`{"a":1}`), "message", `\u00ff`, int64(0))
}

func FuzzJSON(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, host, stream string, msg []byte, key, val string, n int64) {
		ev := fuzzEvent(host, stream, msg, key, val, n)
		out := JSON.Encode(nil, &ev)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"host": escaped(host), "stream": escaped(stream), "message": escaped(string(msg))}
		if !Reserved(key) && key != "n" && key != "obj" {
			want[escaped(key)] = escaped(val)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %q, want %q", k, got[k], w)
			}
		}
		if ts, err := time.Parse(time.RFC3339Nano, got["timestamp"].(string)); err != nil || !ts.Equal(ev.Timestamp) {
			t.Errorf("timestamp %v does not round-trip (%v)", got["timestamp"], err)
		}
	})
}

func FuzzLogfmt(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, host, stream string, msg []byte, key, val string, n int64) {
		ev := fuzzEvent(host, stream, msg, key, val, n)
		out := Logfmt.Encode(nil, &ev)
		if bytes.ContainsAny(out, "\n\r") || !utf8.Valid(out) {
			t.Fatalf("logfmt output has a line break or invalid UTF-8: %q", out)
		}
		pairs, err := parseLogfmt(out)
		if err != nil {
			t.Fatalf("parsing %q: %v", out, err)
		}
		want := [][2]string{{"host", escaped(host)}, {"stream", escaped(stream)}, {"message", escaped(string(msg))}}
		if !Reserved(key) {
			want = append(want, [2]string{string(appendLogfmtKey(nil, key)), escaped(val)})
		}
		if len(pairs) != len(want)+3 { // + timestamp, n, obj
			t.Fatalf("got %d pairs from %q, want %d", len(pairs), out, len(want)+3)
		}
		for i, w := range want {
			if p := pairs[i+1]; p != w {
				t.Errorf("pair %d = %q, want %q", i+1, p, w)
			}
		}
		var obj map[string]string
		if err := json.Unmarshal([]byte(pairs[len(pairs)-1][1]), &obj); err != nil || obj[escaped(val)] != escaped(key) {
			t.Errorf("obj = %q (%v), want {%q: %q}", pairs[len(pairs)-1][1], err, val, key)
		}
	})
}

// parseLogfmt is a strict reader of what the encoder writes: key=value
// pairs separated by one space, values bare or JSON-quoted.
func parseLogfmt(b []byte) ([][2]string, error) {
	var out [][2]string
	for i := 0; len(b) > 0 && i < 1<<20; i++ {
		k, rest, ok := bytes.Cut(b, []byte("="))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \"") {
			return nil, fmt.Errorf("bad key in %q", b)
		}
		var v string
		if len(rest) > 0 && rest[0] == '"' {
			dec := json.NewDecoder(bytes.NewReader(rest))
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			rest = rest[dec.InputOffset():]
		} else {
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			if bytes.ContainsAny(rest[:end], "=\"") {
				return nil, fmt.Errorf("bare value %q needs quotes", rest[:end])
			}
			v, rest = string(rest[:end]), rest[end:]
		}
		out = append(out, [2]string{string(k), v})
		if len(rest) > 0 {
			if rest[0] != ' ' {
				return nil, fmt.Errorf("no space after value in %q", rest)
			}
			rest = rest[1:]
		}
		b = rest
	}
	return out, nil
}
