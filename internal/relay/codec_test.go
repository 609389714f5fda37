package relay

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// eventOpts compares events by value: times with Equal, and values
// through their exported accessors.
var eventOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	}),
	cmp.Comparer(func(a, b event.Value) bool {
		return a.Kind() == b.Kind() && string(a.AppendJSON(nil)) == string(b.AppendJSON(nil))
	}),
}

func encode(t testing.TB, evs []event.Event) []byte {
	t.Helper()
	var e Encoder
	e.Reset(nil)
	for i := range evs {
		if err := e.Append(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return e.Bytes()
}

func nested(depth int) event.Value {
	v := event.String("leaf")
	for range depth {
		v = event.Object(event.Fields{{Key: "n", Value: v}})
	}
	return v
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 11, 22, 10, 11, 12, 123456789, time.FixedZone("", 5*3600+1800))
	for _, tc := range []struct {
		name string
		evs  []event.Event
	}{
		{"empty batch", []event.Event{}},
		{"zero event", []event.Event{{}}},
		{"plain", []event.Event{{Timestamp: ts.UTC(), Host: "web-1", Stream: "app", Message: []byte("hello")}}},
		{"zone offset kept", []event.Event{{Timestamp: ts, Message: []byte("x")}}},
		{"negative offset and old time", []event.Event{{Timestamp: time.Date(1901, 1, 1, 0, 0, 0, 1, time.FixedZone("", -8*3600))}}},
		{"invalid utf-8 kept byte-exact", []event.Event{{Message: []byte("bad \xff\xfe\x00 bytes\n")}}},
		{"empty message differs from nil", []event.Event{{Message: []byte{}}, {Message: nil}}},
		{"host and stream repeat and change", []event.Event{
			{Host: "a", Stream: "s", Message: []byte("1")},
			{Host: "a", Stream: "s", Message: []byte("2")},
			{Host: "b", Stream: "s", Message: []byte("3")},
			{Host: "", Stream: "", Message: []byte("4")},
		}},
		{"every value kind", []event.Event{{Message: []byte("m"), Fields: event.Fields{
			{Key: "null", Value: event.Null()},
			{Key: "str", Value: event.String("v\xff")},
			{Key: "int", Value: event.Int(math.MinInt64)},
			{Key: "float", Value: event.Float(-1.5e300)},
			{Key: "true", Value: event.Bool(true)},
			{Key: "false", Value: event.Bool(false)},
			{Key: "time", Value: event.Time(ts)},
			{Key: "obj", Value: event.Object(event.Fields{{Key: "a", Value: event.Int(1)}})},
			{Key: "arr", Value: event.Array([]event.Value{event.String("x"), event.Array(nil), event.Object(nil)})},
			{Key: "", Value: event.String("")},
		}}}},
		{"empty fields differ from nil", []event.Event{{Fields: event.Fields{}}, {Fields: nil}}},
		{"deepest nesting", []event.Event{{Fields: event.Fields{{Key: "d", Value: nested(MaxDepth)}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(encode(t, tc.evs))
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.evs, got, eventOpts)
			for i := range got {
				if (got[i].Message == nil) != (tc.evs[i].Message == nil) {
					t.Errorf("event %d: nil message not kept", i)
				}
				if (got[i].Fields == nil) != (tc.evs[i].Fields == nil) {
					t.Errorf("event %d: nil fields not kept", i)
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	var e Encoder
	e.Reset([]byte("hdr"))
	ok := event.Event{Message: []byte("ok")}
	if err := e.Append(&ok); err != nil {
		t.Fatal(err)
	}
	before := e.Len()
	deep := event.Event{Host: "other", Fields: event.Fields{{Key: "d", Value: nested(MaxDepth + 2)}}}
	if err := e.Append(&deep); err == nil {
		t.Fatal("too deep: no error")
	}
	if e.Len() != before || e.Count() != 1 {
		t.Fatalf("failed append changed the payload: len %d→%d, count %d", before, e.Len(), e.Count())
	}
	b := e.Bytes()
	if !strings.HasPrefix(string(b), "hdr") {
		t.Fatalf("prefix lost: %q", b)
	}
	got, err := Decode(b[3:])
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []event.Event{ok}, got, eventOpts)
}

func TestMarkUndo(t *testing.T) {
	t.Parallel()
	var e Encoder
	e.Reset(nil)
	a := event.Event{Host: "h1", Stream: "s", Message: []byte("a")}
	b := event.Event{Host: "h2", Stream: "s", Message: []byte("b")}
	c := event.Event{Host: "h1", Stream: "s", Message: []byte("c")}
	_ = e.Append(&a)
	m := e.Mark()
	_ = e.Append(&b)
	e.Undo(m)
	_ = e.Append(&c) // must not refer to b's host
	got, err := Decode(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []event.Event{a, c}, got, eventOpts)
}

func TestDecodeCorrupt(t *testing.T) {
	t.Parallel()
	good := encode(t, []event.Event{{Host: "h", Message: []byte("hello"), Fields: event.Fields{{Key: "k", Value: event.Int(1)}}}})
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"bad version", append([]byte{2}, good[1:]...)},
		{"count too large", append([]byte{1, 0xff, 0xff, 0xff, 0xff}, good[5:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"bad nanoseconds", []byte{1, 0, 0, 0, 1, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0, 0, 0, 0, 0}},
		{"bad zone", []byte{1, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0x7f, 0, 0, 0, 0}},
		{"bad bool", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, kindBool, 7}},
		{"unknown kind", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 99}},
		{"huge field count", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tc.payload); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestDecodeTooDeep(t *testing.T) {
	t.Parallel()
	// Build a payload nested one level deeper than the encoder allows.
	b := []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	b = append(b, 2) // one field
	for range MaxDepth + 2 {
		b = append(b, 1, 'n', kindObject, 2)
	}
	b = append(b, 1, 'n', kindNull)
	if _, err := Decode(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("got %v, want a nesting error", err)
	}
}

func TestCompressRoundTrip(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("GET /api/v1/users 200 ", 1000))
	block := Compress([]byte("prefix"), payload)
	if !strings.HasPrefix(string(block), "prefix") {
		t.Fatal("dst prefix lost")
	}
	if len(block)-6 >= len(payload)/4 {
		t.Errorf("repetitive payload compressed only to %d of %d bytes", len(block)-6, len(payload))
	}
	got, err := Decompress(block[6:], len(payload))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(payload) {
		t.Fatal("round trip changed the payload")
	}
	if _, err := Decompress(block[6:], len(payload)-1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("over the limit: got %v, want ErrCorrupt", err)
	}
	if _, err := Decompress([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2}, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage: got %v, want ErrCorrupt", err)
	}
}
