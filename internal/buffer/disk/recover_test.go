package disk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/testutil"
)

// recordOffsets returns the offsets of the records in a segment file.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := fileSize(t, path)
	var offs []int64
	var hb [headerSize]byte
	for off := int64(0); off < size; {
		_, n, err := readHeader(f, &hb, off, size)
		if err != nil {
			t.Fatalf("walking %s at %d: %v", path, off, err)
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}

// fill pushes one record per id, waits until all are stored, and crashes.
// It returns the segment files written.
func fill(t *testing.T, e *env, idList []string, pad int) []string {
	t.Helper()
	b := e.open()
	u := newUpstream()
	for _, id := range idList {
		push(t, b, u.batch(id, string(make([]byte, pad))))
		u.wait(t, id)
	}
	b.crash()
	return files(t, e.dir, "*.seg")
}

func editFile(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// firstOf returns the first event's message of each batch drained.
func firstOf(t *testing.T, b *Buffer) []string {
	var out []string
	for _, m := range drain(t, b) {
		if m != "" && m[0] != 0 {
			out = append(out, m)
		}
	}
	return out
}

func TestTornTailIsTruncated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(data []byte, offs []int64) []byte
		want []string
	}{
		{"partial header appended", func(d []byte, _ []int64) []byte { return append(d, 9, 0, 0) },
			[]string{"t000", "t001", "t002"}},
		{"zeros appended", func(d []byte, _ []int64) []byte { return append(d, make([]byte, 4096)...) },
			[]string{"t000", "t001", "t002"}},
		{"last record cut short", func(d []byte, offs []int64) []byte { return d[:offs[2]+20] },
			[]string{"t000", "t001"}},
		{"last record damaged", func(d []byte, _ []int64) []byte { d[len(d)-1] ^= 0xff; return d },
			[]string{"t000", "t001"}},
		{"length past the end", func(d []byte, offs []int64) []byte { d[offs[2]+1] = 0x70; return d },
			[]string{"t000", "t001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{})
			segs := fill(t, e, ids("t", 3), 50)
			path := filepath.Join(e.dir, segs[len(segs)-1])
			offs := recordOffsets(t, path)
			editFile(t, path, func(d []byte) []byte { return tc.edit(d, offs) })
			b := e.open()
			testutil.Diff(t, tc.want, firstOf(t, b))
			b.Shutdown()
			testutil.Diff(t, 0.0, testutil.CounterValue(t, corruptCounter(e.m)))
			testutil.Diff(t, []string(nil), files(t, e.dir, "*.bad"))
		})
	}
}

func TestDamagedSegmentIsQuarantined(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		seg  int // which segment to damage
		edit func(data []byte, offs []int64)
		want []string
	}{
		// Sealed segments are only walked by header at open, so payload
		// damage is found when the record is read.
		{"payload byte in a sealed segment", 0, func(d []byte, offs []int64) { d[offs[1]+headerSize+5] ^= 1 },
			[]string{"c000", "c003", "c004", "c005"}},
		{"length in a sealed segment", 0, func(d []byte, offs []int64) { d[offs[1]+2] = 0x7f },
			[]string{"c000", "c003", "c004", "c005"}},
		// The last segment is checked in full at open.
		{"payload byte in the middle of the last segment", 1, func(d []byte, offs []int64) { d[offs[0]+headerSize+5] ^= 1 },
			[]string{"c000", "c001", "c002"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, Options{SegmentSize: minSegmentSize})
			segs := fill(t, e, ids("c", 6), 1200) // three records per segment
			if len(segs) != 2 {
				t.Fatalf("segments = %v, want 2", segs)
			}
			path := filepath.Join(e.dir, segs[tc.seg])
			offs := recordOffsets(t, path)
			editFile(t, path, func(d []byte) []byte { tc.edit(d, offs); return d })
			b := e.open()
			testutil.Diff(t, tc.want, firstOf(t, b))
			testutil.Diff(t, 1.0, testutil.CounterValue(t, corruptCounter(e.m)))
			testutil.Diff(t, []string{segs[tc.seg] + ".bad"}, files(t, e.dir, "*.bad"))
			b.Shutdown()
			// Next start: the quarantined file is left alone, nothing comes again.
			b = e.open()
			popNone(t, b)
			b.Shutdown()
			testutil.Diff(t, 1.0, testutil.CounterValue(t, corruptCounter(e.m)))
		})
	}
}

func TestDamagedAckFileRedeliversAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	b := e.open()
	u := newUpstream()
	for _, id := range ids("w", 3) {
		push(t, b, u.batch(id))
	}
	p := pop(t, b)
	p.Ack.Release(ack.Delivered)
	b.Shutdown()
	editFile(t, filepath.Join(e.dir, ackFile), func(d []byte) []byte { d[10] ^= 1; return d })
	b = e.open()
	testutil.Diff(t, ids("w", 3), drain(t, b))
	b.Shutdown()
}

func TestWatermarkEncoding(t *testing.T) {
	t.Parallel()
	for _, p := range []position{{}, {seg: 7, off: 12345}, {seg: 1<<64 - 1, off: 1 << 40}} {
		got, err := decodeWatermark(encodeWatermark(p))
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		testutil.Diff(t, p, got, cmpPosition)
	}
	if _, err := decodeWatermark([]byte("short")); err == nil {
		t.Error("decoding a short ack file succeeded")
	}
}

func TestParseSegName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		seq     uint64
		bad, ok bool
	}{
		{"0000000000000042.seg", 42, false, true},
		{"0000000000000042.seg.bad", 42, true, true},
		{"42.seg", 0, false, false},
		{"000000000000004x.seg", 0, false, false},
		{"ack", 0, false, false},
		{"0000000000000042.seg.tmp", 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq, bad, ok := parseSegName(tc.name)
			testutil.Diff(t, []any{tc.seq, tc.bad, tc.ok}, []any{seq, bad, ok})
		})
	}
	seq, _, ok := parseSegName(segName(99))
	if !ok || seq != 99 {
		t.Errorf("segName(99) does not parse back: %d %v", seq, ok)
	}
}
