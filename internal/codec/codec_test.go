package codec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123, time.FixedZone("CEST", 2*3600))

func fullEvent() event.Event {
	return event.Event{
		Timestamp: testTime,
		Host:      "web1",
		Stream:    "api",
		Message:   []byte(`GET /x 200`),
		Fields: event.Fields{
			{Key: "status", Value: event.Int(200)},
			{Key: "dur", Value: event.Float(0.25)},
			{Key: "ok", Value: event.Bool(true)},
			{Key: "user", Value: event.String("bob smith")},
			{Key: "tags", Value: event.Array([]event.Value{event.String("a"), event.Int(1)})},
			{Key: "http", Value: event.Object(event.Fields{{Key: "method", Value: event.String("GET")}})},
			{Key: "none", Value: event.Null()},
			{Key: "at", Value: event.Time(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))},
		},
	}
}

func TestEncoders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		ev         event.Event
		json, text string
		logfmt     string
	}{
		{
			name: "full",
			ev:   fullEvent(),
			json: `{"timestamp":"2024-05-06T05:08:09.000000123Z","host":"web1","stream":"api","message":"GET /x 200",` +
				`"status":200,"dur":0.25,"ok":true,"user":"bob smith","tags":["a",1],"http":{"method":"GET"},` +
				`"none":null,"at":"2024-01-02T03:04:05Z"}`,
			text: `GET /x 200`,
			logfmt: `timestamp=2024-05-06T05:08:09.000000123Z host=web1 stream=api message="GET /x 200" ` +
				`status=200 dur=0.25 ok=true user="bob smith" tags="[\"a\",1]" http="{\"method\":\"GET\"}" ` +
				`none= at=2024-01-02T03:04:05.000000000Z`,
		},
		{
			name: "invalid UTF-8 and NUL bytes",
			ev: event.Event{Timestamp: time.Unix(0, 0), Host: "h\xfe", Stream: "s",
				Message: []byte("a\xffb\x00c\n"),
				Fields:  event.Fields{{Key: "k\x00\xff=\"", Value: event.String("\x01\xc3")}}},
			json: `{"timestamp":"1970-01-01T00:00:00.000000000Z","host":"h\u00fe","stream":"s",` +
				`"message":"a\u00ffb\u0000c\n","k\u0000\u00ff=\"":"\u0001\u00c3"}`,
			text:   "a\xffb\x00c\n",
			logfmt: `timestamp=1970-01-01T00:00:00.000000000Z host="h\u00fe" stream=s message="a\u00ffb\u0000c\n" k____="\u0001\u00c3"`,
		},
		{
			name:   "zero event",
			ev:     event.Event{},
			json:   `{"timestamp":"0001-01-01T00:00:00.000000000Z","host":"","stream":"","message":""}`,
			text:   ``,
			logfmt: `timestamp=0001-01-01T00:00:00.000000000Z host="" stream="" message=""`,
		},
		{
			name: "fields shadowed by attributes are skipped",
			ev: event.Event{Timestamp: time.Unix(1, 5).UTC(), Host: "h", Stream: "s", Message: []byte("m"),
				Fields: event.Fields{{Key: "message", Value: event.String("inner")}, {Key: "host", Value: event.Int(1)},
					{Key: "x", Value: event.String("y")}}},
			json:   `{"timestamp":"1970-01-01T00:00:01.000000005Z","host":"h","stream":"s","message":"m","x":"y"}`,
			text:   `m`,
			logfmt: `timestamp=1970-01-01T00:00:01.000000005Z host=h stream=s message=m x=y`,
		},
		{
			name: "unicode stays bare in logfmt, separators do not",
			ev: event.Event{Timestamp: time.Unix(0, 0), Message: []byte("héllo\u2028"),
				Fields: event.Fields{{Key: "clé", Value: event.String("vàl")}, {Key: "", Value: event.String("a=b")}}},
			json: `{"timestamp":"1970-01-01T00:00:00.000000000Z","host":"","stream":"","message":"héllo\u2028",` +
				`"clé":"vàl","":"a=b"}`,
			text:   "héllo\u2028",
			logfmt: `timestamp=1970-01-01T00:00:00.000000000Z host="" stream="" message="héllo\u2028" clé=vàl _="a=b"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, enc := range []struct {
				name, want string
			}{{"json", tc.json}, {"text", tc.text}, {"logfmt", tc.logfmt}} {
				e, err := Lookup(enc.name)
				if err != nil {
					t.Fatal(err)
				}
				prefix := []byte("prefix|")
				got := e.Encode(prefix, &tc.ev)
				testutil.Diff(t, "prefix|"+enc.want, string(got))
			}
			if got := JSON.Encode(nil, &tc.ev); !json.Valid(got) {
				t.Errorf("json output is not valid JSON: %s", got)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	testutil.Diff(t, true, len(Names()) >= 3)
	for _, n := range []string{"json", "text", "logfmt"} {
		if _, err := Lookup(n); err != nil {
			t.Errorf("Lookup(%q): %v", n, err)
		}
	}
	_, err := Lookup("yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown encoding "yaml"`) || !strings.Contains(err.Error(), "logfmt") {
		t.Errorf("Lookup(yaml) error = %v, want unknown encoding listing the known ones", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		enc  Encoder
		key  string
	}{
		{"duplicate", Text, "json"},
		{"empty name", Text, ""},
		{"nil encoder", nil, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tc.key)
				}
			}()
			Register(tc.key, tc.enc)
		})
	}
}

func TestAppendTimeIsUTCAndFixedWidth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   time.Time
		want string
	}{
		{"offset zone", testTime, "2024-05-06T05:08:09.000000123Z"},
		{"whole second", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "2024-01-01T00:00:00.000000000Z"},
		{"millis", time.Date(2024, 1, 1, 0, 0, 0, 5e6, time.Local), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendTime(nil, tc.in))
			if tc.want == "" {
				tc.want = tc.in.UTC().Format("2006-01-02T15:04:05") + ".005000000Z"
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}
