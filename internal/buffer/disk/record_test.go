package disk

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
	"github.com/sluice-log/sluice/internal/testutil"
)

func segmentOf(t testing.TB, batches ...[]event.Event) []byte {
	t.Helper()
	var seg []byte
	for _, evs := range batches {
		var err error
		if seg, err = appendRecord(seg, evs); err != nil {
			t.Fatal(err)
		}
	}
	return seg
}

func TestScan(t *testing.T) {
	t.Parallel()
	one := []event.Event{{Message: []byte("one")}}
	two := []event.Event{{Message: []byte("a")}, {Message: []byte("b")}}
	good := segmentOf(t, one, two, one)
	second := int64(len(segmentOf(t, one)))
	flip := func(i int) []byte { d := bytes.Clone(good); d[i] ^= 1; return d }
	for _, tc := range []struct {
		name    string
		data    []byte
		verify  bool
		end     int64
		records int
		events  int
		err     error
		tail    bool
	}{
		{"empty", nil, true, 0, 0, 0, nil, false},
		{"good", good, true, int64(len(good)), 3, 4, nil, false},
		{"good without verify", good, false, int64(len(good)), 3, 4, nil, false},
		{"partial header", append(bytes.Clone(good), 1, 2), true, int64(len(good)), 3, 4, errFraming, true},
		{"zero length", append(bytes.Clone(good), make([]byte, 20)...), true, int64(len(good)), 3, 4, errFraming, true},
		{"payload flipped in the middle", flip(int(second) + headerSize + 2), true, second, 1, 1, errChecksum, false},
		{"payload flipped in the middle, headers only", flip(int(second) + headerSize + 2), false, int64(len(good)), 3, 4, nil, false},
		{"last payload flipped", flip(len(good) - 1), true, int64(len(good)) - second, 2, 3, errChecksum, true},
		{"event count flipped", flip(int(second) + 4), true, second, 1, 1, errChecksum, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := scan(bytes.NewReader(tc.data), 0, int64(len(tc.data)), tc.verify)
			if !errors.Is(res.err, tc.err) || (tc.err == nil) != (res.err == nil) {
				t.Errorf("err = %v, want %v", res.err, tc.err)
			}
			testutil.Diff(t, []any{tc.end, tc.records, tc.events, tc.tail}, []any{res.end, res.records, res.events, res.tail})
		})
	}
}

func FuzzScanSegment(f *testing.F) {
	f.Add(segmentOf(f, []event.Event{{Message: []byte("x"), Fields: testutil.AllKinds()}}, []event.Event{{}, {}}))
	f.Add([]byte{5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		r := bytes.NewReader(data)
		full := scan(r, 0, size, true)
		quick := scan(r, 0, size, false)
		if full.end < 0 || full.end > size || quick.end > size || full.end > quick.end {
			t.Fatalf("ends out of range: full %d, headers only %d, size %d", full.end, quick.end, size)
		}
		if (full.err == nil) != (full.end == size) {
			t.Fatalf("err %v but end %d of %d", full.err, full.end, size)
		}
		if full.bytes != full.end || full.records > len(data)/headerSize {
			t.Fatalf("totals %+v do not match end %d", full, full.end)
		}
		// Every record the full scan accepted reads back; its payload may
		// or may not decode, but never panics.
		for off := int64(0); off < full.end; {
			payload, _, n, err := readRecord(r, off, full.end)
			if err != nil {
				t.Fatalf("record at %d accepted by scan fails to read: %v", off, err)
			}
			_, _ = wire.Decode(payload)
			off += n
		}
	})
}
