package wire

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// eventOpts compares events strictly: values with sameValue, timestamps
// by instant and UTC offset. Slices already tell nil from empty.
var eventOpts = cmp.Options{
	cmp.Comparer(sameValue),
	cmp.Comparer(func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	}),
}

// sameValue reports whether a and b are the same value, telling nil and
// empty objects and arrays apart and comparing floats by their bits. It
// does not recurse through cmp, which is too slow for MaxDepth levels.
func sameValue(a, b event.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case event.KindString:
		return a.Str() == b.Str()
	case event.KindInt:
		i, _ := a.Int()
		j, _ := b.Int()
		return i == j
	case event.KindFloat:
		f, _ := a.Float()
		g, _ := b.Float()
		return math.Float64bits(f) == math.Float64bits(g)
	case event.KindBool:
		return a.Bool() == b.Bool()
	case event.KindTime:
		return a.Time().Equal(b.Time())
	case event.KindObject:
		return sameFields(a.Fields(), b.Fields())
	case event.KindArray:
		return sameArray(a.Array(), b.Array())
	}
	return true
}

func sameFields(f, g event.Fields) bool {
	if (f == nil) != (g == nil) || len(f) != len(g) {
		return false
	}
	for i := range f {
		if f[i].Key != g[i].Key || !sameValue(f[i].Value, g[i].Value) {
			return false
		}
	}
	return true
}

func sameArray(a, b []event.Value) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func encode(t testing.TB, evs []event.Event) []byte {
	t.Helper()
	b, err := AppendBatch(nil, evs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nestedObjects is a leaf inside depth objects.
func nestedObjects(depth int) event.Value {
	v := event.String("leaf")
	for range depth {
		v = event.Object(event.Fields{{Key: "n", Value: v}})
	}
	return v
}

// nestedArrays is an int inside depth arrays.
func nestedArrays(depth int) event.Value {
	v := event.Int(1)
	for range depth {
		v = event.Array([]event.Value{v})
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
		{"named zone keeps its offset", []event.Event{{Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("CET", 3600))}}},
		{"largest zone offset", []event.Event{{Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("", -MaxZoneOffset))}}},
		{"negative offset and old time", []event.Event{{Timestamp: time.Date(1901, 1, 1, 0, 0, 0, 1, time.FixedZone("", -8*3600))}}},
		{"far past", []event.Event{{Timestamp: time.Date(-3000, 1, 1, 0, 0, 0, 1, time.UTC)}}},
		{"far future", []event.Event{{Timestamp: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}}},
		{"invalid utf-8 kept byte-exact", []event.Event{{Host: "\xff", Stream: "\x00", Message: []byte("bad \xff\xfe\x00 bytes\n")}}},
		{"empty message differs from nil", []event.Event{{Message: []byte{}}, {Message: nil}}},
		{"host and stream repeat and change", []event.Event{
			{Host: "a", Stream: "s", Message: []byte("1")},
			{Host: "a", Stream: "s", Message: []byte("2")},
			{Host: "b", Stream: "s", Message: []byte("3")},
			{Host: "", Stream: "", Message: []byte("4")},
			{Host: "b", Stream: "t", Message: []byte("5")},
		}},
		{"repeated keys", []event.Event{
			{Fields: event.Fields{{Key: "k", Value: event.Int(1)}, {Key: "l", Value: event.Int(2)}}},
			{Fields: event.Fields{{Key: "l", Value: event.Int(3)}, {Key: "k", Value: event.Int(4)}}},
		}},
		{"every value kind", []event.Event{{Message: []byte("m"), Fields: testutil.AllKinds()}}},
		{"empty fields differ from nil", []event.Event{{Fields: event.Fields{}}, {Fields: nil}}},
		{"deepest objects", []event.Event{{Fields: event.Fields{{Key: "d", Value: nestedObjects(MaxDepth)}}}}},
		{"deepest arrays", []event.Event{{Fields: event.Fields{{Key: "d", Value: nestedArrays(MaxDepth)}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(encode(t, tc.evs))
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.evs, got, eventOpts)
		})
	}
}

// TestZoneOutOfRange checks that an offset the format cannot carry keeps
// the instant, in UTC.
func TestZoneOutOfRange(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("", MaxZoneOffset+1))
	got, err := Decode(encode(t, []event.Event{{Timestamp: ts}}))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []event.Event{{Timestamp: ts.UTC()}}, got, eventOpts)
}

// TestBytes pins the encoding to the bytes docs/relay-protocol.md
// describes.
func TestBytes(t *testing.T) {
	t.Parallel()
	evs := []event.Event{
		{Timestamp: time.Unix(-1, 5).In(time.FixedZone("", 3600)), Host: "h", Stream: "s", Message: []byte("hi"),
			Fields: event.Fields{{Key: "n", Value: event.Int(-2)}, {Key: "f", Value: event.Float(1)}, {Key: "b", Value: event.Bool(true)}}},
		{Timestamp: time.Unix(0, 0), Host: "h", Stream: "t", Fields: event.Fields{
			{Key: "o", Value: event.Object(event.Fields{})}, {Key: "a", Value: event.Array([]event.Value{event.Null(), event.String("x")})},
			{Key: "t", Value: event.Time(time.Unix(0, 1))}, {Key: "z", Value: event.Array(nil)}}},
	}
	want := []byte{
		1, 0, 0, 0, 2, // version, count
		1, 5, 0xa0, 0x38, // seconds -1, nanos 5, zone 3600
		2, 'h', 2, 's', 3, 'h', 'i', // host, stream, message
		4, 1, 'n', 2, 3, 1, 'f', 3, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 1, 'b', 4, 1,
		0, 0, 0, // seconds, nanos, zone
		0, 2, 't', 0, // host as before, stream, nil message
		5, 1, 'o', 6, 1, 1, 'a', 7, 3, 0, 1, 1, 'x', 1, 't', 5, 2, 1, 'z', 7, 0,
	}
	got := encode(t, evs)
	testutil.Diff(t, want, got)
}

func TestAppendBatchKeepsPrefix(t *testing.T) {
	t.Parallel()
	ok := []event.Event{{Message: []byte("ok")}}
	b, err := AppendBatch([]byte("hdr"), ok)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("hdr")) {
		t.Fatalf("prefix lost: %q", b)
	}
	got, err := Decode(b[3:])
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, ok, got, eventOpts)

	tooDeep := append(ok, event.Event{Fields: event.Fields{{Key: "d", Value: nestedArrays(MaxDepth + 5)}}})
	b, err = AppendBatch([]byte("hdr"), tooDeep)
	if err == nil || !strings.Contains(err.Error(), "event 1:") {
		t.Fatalf("too deep: got error %v, want one naming event 1", err)
	}
	if string(b) != "hdr" {
		t.Fatalf("failed AppendBatch returned %q, want the buffer as given", b)
	}
}

func TestMessageAliasesPayload(t *testing.T) {
	t.Parallel()
	buf := encode(t, []event.Event{{Message: []byte("abc")}})
	got, err := Decode(buf)
	if err != nil {
		t.Fatal(err)
	}
	// Appending to a decoded message must not overwrite the payload.
	_ = append(got[0].Message, 'X')
	if !bytes.HasSuffix(buf, []byte("abc\x00")) {
		t.Errorf("payload changed: %q", buf)
	}
}

func TestEncodeTooDeep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		value event.Value
	}{
		{"objects", nestedObjects(MaxDepth + 2)},
		{"arrays", nestedArrays(MaxDepth + 5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e Encoder
			e.Reset([]byte("hdr"))
			ok := event.Event{Message: []byte("ok")}
			if err := e.Append(&ok); err != nil {
				t.Fatal(err)
			}
			before := e.Len()
			deep := event.Event{Host: "other", Fields: event.Fields{{Key: "d", Value: tc.value}}}
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
		})
	}
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
		{"short header", []byte{1, 0, 0, 0}},
		{"bad version", append([]byte{2}, good[1:]...)},
		{"count too large", append([]byte{1, 0xff, 0xff, 0xff, 0xff}, good[5:]...)},
		{"count one too large", append([]byte{1, 0, 0, 0, 2}, good[5:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"truncated varint", []byte{1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}},
		{"bad nanoseconds", []byte{1, 0, 0, 0, 1, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0, 0, 0, 0, 0}},
		{"bad zone", []byte{1, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0x7f, 0, 0, 0, 0}},
		{"zone one over", []byte{1, 0, 0, 0, 1, 0, 0, 0x82, 0xc6, 0x0a, 0, 0, 0, 0}},
		{"huge host length", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bad bool", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, kindBool, 7}},
		{"unknown kind", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 99}},
		{"huge field count", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"huge array count", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, kindArray, 0xff, 0xff, 0x03}},
		{"truncated float", []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, kindFloat, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Decode(tc.payload); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestDecodeTruncations checks that every cut of a good payload is an
// error, never a panic.
func TestDecodeTruncations(t *testing.T) {
	t.Parallel()
	good := encode(t, []event.Event{{Host: "h", Message: []byte("msg"), Fields: testutil.AllKinds()}, {Host: "h"}})
	for i := range len(good) {
		if _, err := Decode(good[:i]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: got %v, want ErrCorrupt", i, err)
		}
	}
}

func TestDecodeTooDeep(t *testing.T) {
	t.Parallel()
	// A payload nested one level deeper than the encoder allows.
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
