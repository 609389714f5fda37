package disk

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

// valueOpt compares event values by their unexported representation.
var valueOpt = cmp.AllowUnexported(event.Value{})

func allKinds() event.Fields {
	return event.Fields{
		{Key: "null", Value: event.Null()},
		{Key: "str", Value: event.String("héllo \x00\xff")},
		{Key: "empty", Value: event.String("")},
		{Key: "int", Value: event.Int(-1 << 62)},
		{Key: "float", Value: event.Float(-3.25e-300)},
		{Key: "inf", Value: event.Float(math.Inf(1))},
		{Key: "true", Value: event.Bool(true)},
		{Key: "false", Value: event.Bool(false)},
		{Key: "time", Value: event.Time(time.Date(2031, 1, 2, 3, 4, 5, 6, time.UTC))},
		{Key: "obj", Value: event.Object(event.Fields{{Key: "a", Value: event.Int(1)},
			{Key: "nested", Value: event.Object(event.Fields{{Key: "b", Value: event.Array([]event.Value{event.Int(2)})}})}})},
		{Key: "nilobj", Value: event.Object(nil)},
		{Key: "emptyobj", Value: event.Object(event.Fields{})},
		{Key: "arr", Value: event.Array([]event.Value{event.String("x"), event.Null(), event.Array(nil), event.Array([]event.Value{})})},
		{Key: "nilarr", Value: event.Array(nil)},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name   string
		events []event.Event
	}{
		{"empty batch", []event.Event{}},
		{"zero event", []event.Event{{}}},
		{"plain", []event.Event{{Timestamp: time.Unix(1700000000, 123456789).UTC(), Host: "web1", Stream: "nginx", Message: []byte("GET / 200")}}},
		{"empty message", []event.Event{{Message: []byte{}}}},
		{"invalid utf8", []event.Event{{Host: "\xff", Message: []byte{0xff, 0, 0xfe, '\n'}}}},
		{"zone offset", []event.Event{{Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 10, zone), Message: []byte("x")}}},
		{"far past", []event.Event{{Timestamp: time.Date(-3000, 1, 1, 0, 0, 0, 1, time.UTC)}}},
		{"far future", []event.Event{{Timestamp: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}}},
		{"all value kinds", []event.Event{{Message: []byte("m"), Fields: allKinds()}}},
		{"empty fields", []event.Event{{Fields: event.Fields{}}}},
		{"repeated host and keys", []event.Event{
			{Host: "h", Stream: "s", Fields: event.Fields{{Key: "k", Value: event.Int(1)}}},
			{Host: "h", Stream: "t", Fields: event.Fields{{Key: "k", Value: event.Int(2)}}},
			{Host: "g", Stream: "t", Fields: event.Fields{{Key: "k", Value: event.Int(3)}}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			buf, err := appendBatch(nil, tc.events)
			if err != nil {
				t.Fatalf("appendBatch: %v", err)
			}
			got, err := decodeBatch(buf)
			if err != nil {
				t.Fatalf("decodeBatch: %v", err)
			}
			testutil.Diff(t, tc.events, got, valueOpt)
			for i := range got {
				_, wantOff := tc.events[i].Timestamp.Zone()
				if _, off := got[i].Timestamp.Zone(); off != wantOff {
					t.Errorf("event %d: zone offset %d, want %d", i, off, wantOff)
				}
			}
		})
	}
}

func TestCodecMessageAliasesPayload(t *testing.T) {
	t.Parallel()
	buf, err := appendBatch(nil, []event.Event{{Message: []byte("abc")}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatch(buf)
	if err != nil {
		t.Fatal(err)
	}
	// Appending to a decoded message must not overwrite the payload.
	_ = append(got[0].Message, 'X')
	if !bytes.HasSuffix(buf, []byte("abc\x00")) {
		t.Errorf("payload changed: %q", buf)
	}
}

func deep(n int) event.Value {
	v := event.Int(1)
	for range n {
		v = event.Array([]event.Value{v})
	}
	return v
}

func TestCodecDepthLimit(t *testing.T) {
	t.Parallel()
	ok := []event.Event{{Fields: event.Fields{{Key: "d", Value: deep(maxDepth - 2)}}}}
	buf, err := appendBatch(nil, ok)
	if err != nil {
		t.Fatalf("depth %d: %v", maxDepth-2, err)
	}
	if _, err := decodeBatch(buf); err != nil {
		t.Fatalf("decoding depth %d: %v", maxDepth-2, err)
	}
	tooDeep := []event.Event{{Fields: event.Fields{{Key: "d", Value: deep(maxDepth + 5)}}}}
	if _, err := appendBatch(nil, tooDeep); err == nil {
		t.Error("encoding too deep a value succeeded")
	}
}

func TestCodecRejectsCorruptInput(t *testing.T) {
	t.Parallel()
	good, err := appendBatch(nil, []event.Event{{Host: "h", Message: []byte("msg"), Fields: allKinds()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong version", append([]byte{9}, good[1:]...)},
		{"huge event count", []byte{codecVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"huge string length", []byte{codecVersion, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bad nanoseconds", []byte{codecVersion, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0}},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"unknown kind", []byte{codecVersion, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 42}},
		{"bad bool", []byte{codecVersion, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, byte(event.KindBool), 7}},
		{"truncated varint", []byte{codecVersion, 0x80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := decodeBatch(tc.in); !errors.Is(err, errCorrupt) {
				t.Errorf("decodeBatch(%q) error = %v, want errCorrupt", tc.in, err)
			}
		})
	}
	// Every truncation of a good payload is an error, never a panic.
	for i := range len(good) {
		if _, err := decodeBatch(good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	seed := [][]event.Event{
		{{Host: "h", Stream: "s", Message: []byte("hello"), Timestamp: time.Unix(1, 2)}},
		{{Fields: allKinds()}},
		{{}, {Message: []byte{}}},
	}
	for _, evs := range seed {
		buf, err := appendBatch(nil, evs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf)
	}
	f.Add([]byte{codecVersion, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, err := decodeBatch(in)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := appendBatch(nil, evs)
		if err != nil {
			if strings.Contains(err.Error(), "nested deeper") {
				return
			}
			t.Fatalf("re-encoding: %v", err)
		}
		evs2, err := decodeBatch(again)
		if err != nil {
			t.Fatalf("decoding re-encoded batch: %v", err)
		}
		testutil.Diff(t, evs, evs2, valueOpt)
	})
}
