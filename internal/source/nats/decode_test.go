package nats

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestDecodeRoundTrip: what the json encoding writes decodes to the same
// event, every field kind included (times come back as their RFC 3339
// strings, as JSON has no time type).
func TestDecodeRoundTrip(t *testing.T) {
	ts := time.Date(2026, 12, 6, 5, 0, 0, 123456789, time.UTC)
	in := event.Event{Timestamp: ts, Host: "web-1", Stream: "app", Message: []byte("héllo \"x\"\n"),
		Fields: event.Fields{
			{Key: "n", Value: event.Int(-7)}, {Key: "f", Value: event.Float(1.5)}, {Key: "ok", Value: event.Bool(true)},
			{Key: "s", Value: event.String("v")}, {Key: "null", Value: event.Null()},
			{Key: "obj", Value: event.Object(event.Fields{{Key: "a", Value: event.Int(1)}})},
			{Key: "arr", Value: event.Array([]event.Value{event.String("x"), event.Int(2)})},
		}}
	var out event.Event
	if err := decode(codec.JSON.Encode(nil, &in), &out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, in.Map(), out.Map())
}

func TestDecodeBad(t *testing.T) {
	for _, bad := range []string{"", "plain text", "[1]", `{"timestamp":5}`, `{"timestamp":"yesterday"}`,
		`{"message":{"a":1}}`, `{"host":1}`, `{"message":"x"`} {
		var e event.Event
		if err := decode([]byte(bad), &e, time.Now()); err == nil {
			t.Errorf("decode(%q) = nil error", bad)
		}
	}
	var e event.Event
	now := time.Unix(1, 0)
	if err := decode([]byte(`{"message":"m","k":"v"}`), &e, now); err != nil || !e.Timestamp.Equal(now) || string(e.Message) != "m" {
		t.Errorf("a payload without timestamp: %v %+v", err, e)
	}
}

// FuzzDecode: any payload decodes or fails with an error, never a panic;
// what decodes re-encodes and decodes to the same event (for valid UTF-8:
// the json encoding writes an invalid byte as \u00XX, a different rune).
func FuzzDecode(f *testing.F) {
	e := event.Event{Timestamp: time.Unix(0, 5).UTC(), Host: "h", Message: []byte("m"),
		Fields: event.Fields{{Key: "k", Value: event.String("v")}}}
	f.Add(codec.JSON.Encode(nil, &e))
	f.Add([]byte(`{"timestamp":"2026-12-06T05:00:00Z","message":"\u00e9","a":[1,{"b":null}]}`))
	f.Add([]byte("not json"))
	f.Add([]byte(`{"message":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a, b event.Event
		if err := decode(data, &a, time.Unix(0, 0).UTC()); err != nil || !utf8.Valid(data) {
			return
		}
		again := codec.JSON.Encode(nil, &a)
		if err := decode(again, &b, time.Unix(0, 0).UTC()); err != nil {
			t.Fatalf("re-decoding %q: %v", again, err)
		}
		if string(codec.JSON.Encode(nil, &b)) != string(again) {
			t.Fatalf("not stable: %q then %q", again, codec.JSON.Encode(nil, &b))
		}
	})
}
