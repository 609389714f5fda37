package syslog

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wire "github.com/sluice-log/sluice/internal/syslog"
)

// FuzzLogplexRoundTrip encodes fuzzed events as a logplex body (octet
// counted RFC 5424 frames), reads it back with the framing reader and the
// decoder the sources use, and checks that no frame is lost or merged,
// messages survive byte for byte (or as a prefix when truncated), and that
// encoding is a fixpoint after one decode.
func FuzzLogplexRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), "web1", "api", "123", "ID1", "local0", "info", "x@1", "k", `v"]\`, int64(1e18), uint16(0), false)
	f.Add([]byte("multi\nline\n"), "", "", "", "", "", "", "", "", "", int64(0), uint16(1000), true)
	f.Add([]byte("\xef\xbb\xbfbom"), "h o s t", "app\x00", "-", "", "kern", "emerg", "", "", "", int64(-1), uint16(480), false)
	f.Add([]byte(strings.Repeat("€", 400)), strings.Repeat("h", 300), "a", "", "", "99", "7", "id", "", "", int64(9e18), uint16(600), false)
	f.Add([]byte("23 <13>1 - - - - - - nested frame"), "-", "-", "-", "-", "-", "-", "-", "-", "-", int64(5), uint16(2000), true)
	f.Fuzz(func(t *testing.T, msg []byte, host, app, procid, msgid, fac, sev, sdID, sdKey, sdVal string, ts int64, size uint16, lf bool) {
		ev := event.Event{Timestamp: time.Unix(0, ts), Host: host, Stream: app, Message: msg}
		for _, kv := range [][2]string{{"facility", fac}, {"severity", sev}, {"procid", procid}, {"msgid", msgid}} {
			if kv[1] != "" {
				ev.Fields = append(ev.Fields, event.Field{Key: kv[0], Value: event.String(kv[1])})
			}
		}
		if sdID != "" {
			params := event.Fields{{Key: sdKey, Value: event.String(sdVal)}}
			ev.Fields = append(ev.Fields, event.Field{Key: "sd", Value: event.Object(event.Fields{{Key: sdID, Value: event.Object(params)}})})
		}
		c := &Config{}
		c.Defaults()
		c.MaxMessageSize = config.ByteSize(minMessageSize + int(size)%4000)
		mode := ModeHTTP
		if lf {
			mode, c.Framing = ModeTCP, FramingLF
		}
		enc := newEncoder(c, mode)
		b := &event.Batch{Events: []event.Event{ev, ev, {Message: []byte("end")}}}
		body := bytes.Clone(enc.encode(b).buf)
		truncated := enc.f.truncated > 0

		got := readFrames(t, body, int(c.MaxMessageSize))
		if lf {
			msg = bytes.ReplaceAll(msg, []byte("\n"), []byte(" "))
		}
		if len(got) != 3 {
			t.Fatalf("%d frames read back, want 3: %q", len(got), body)
		}
		for i, e := range got[:2] {
			switch {
			case !truncated && !bytes.Equal(e.Message, msg):
				t.Fatalf("frame %d message %q, want %q", i, e.Message, msg)
			case truncated && !bytes.HasPrefix(msg, e.Message) && !bytes.HasPrefix(msg, append(bom(), e.Message...)):
				t.Fatalf("frame %d message %q is not a prefix of %q", i, e.Message, msg)
			}
		}
		expectEqual(t, "end", string(got[2].Message))
		if truncated || lf {
			return
		}
		// One decode normalises the event; from then on encoding is stable.
		once := bytes.Clone(enc.encode(&event.Batch{Events: got[:1]}).buf)
		again := readFrames(t, once, int(c.MaxMessageSize))
		twice := enc.encode(&event.Batch{Events: again[:1]}).buf
		if !bytes.Equal(once, twice) {
			t.Fatalf("encoding is not a fixpoint:\n%q\n%q", once, twice)
		}
	})
}

func bom() []byte { return []byte{0xEF, 0xBB, 0xBF} }

func expectEqual(t *testing.T, want, got string) {
	t.Helper()
	if want != got {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// readFrames splits body with the framing reader and decodes every frame.
func readFrames(t *testing.T, body []byte, maxSize int) []event.Event {
	t.Helper()
	rd := wire.NewReader(bytes.NewReader(body), maxSize)
	var dec wire.Decoder
	var out []event.Event
	for range 100 {
		frame, err := rd.Next()
		if len(frame) > 0 {
			var e event.Event
			if dec.Decode(frame, time.Unix(0, 0), "", &e) != wire.FormatRFC5424 {
				t.Fatalf("frame %q is not RFC 5424", frame)
			}
			out = append(out, e)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading frames: %v", err)
		}
	}
	t.Fatal("more than 100 frames")
	return nil
}
