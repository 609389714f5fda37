package live

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// push appends a record of the given bytes.
func push(r *ring, b []byte, ts int64) { copy(r.reserve(len(b), ts), b) }

// contents returns the kept records, oldest first.
func contents(r *ring) []string {
	var out []string
	for s := r.first; s < r.next; s++ {
		b, _ := r.at(s)
		out = append(out, string(b))
	}
	return out
}

func TestRingLineBound(t *testing.T) {
	t.Parallel()
	r := newRing(3, 1<<20)
	for i := range 10 {
		push(r, fmt.Appendf(nil, "line-%d", i), int64(i))
	}
	testutil.Diff(t, []string{"line-7", "line-8", "line-9"}, contents(r))
	if r.first != 7 || r.next != 10 {
		t.Errorf("first, next = %d, %d; want 7, 10", r.first, r.next)
	}
	if r.bytes != 18 {
		t.Errorf("bytes = %d, want 18", r.bytes)
	}
}

func TestRingByteBoundAndWrap(t *testing.T) {
	t.Parallel()
	// 100-byte arena, 30-byte records: three fit; the fourth wraps to the
	// start after 10 bytes of padding and evicts the oldest.
	r := newRing(1000, 100)
	rec := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 30) }
	for i := range 3 {
		push(r, rec(i), 0)
	}
	testutil.Diff(t, 3, r.lines())
	push(r, rec(3), 0)
	testutil.Diff(t, []string{string(rec(1)), string(rec(2)), string(rec(3))}, contents(r))
	for i := 4; i < 50; i++ {
		push(r, rec(i%26), 0)
		if r.used() > 100 || r.bytes > 100 {
			t.Fatalf("after %d: used %d, bytes %d, over the 100-byte bound", i, r.used(), r.bytes)
		}
	}
	// The newest is always kept and intact.
	b, _ := r.at(r.next - 1)
	testutil.Diff(t, string(rec(49%26)), string(b))
}

// TestRingModel checks the ring against a plain slice under random record
// sizes and bounds: the kept records are exactly the newest that fit both
// bounds (the byte bound may keep fewer, because of padding, never more).
func TestRingModel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := 200
	if testing.Short() {
		rounds = 40
	}
	for round := range rounds {
		maxLines, maxBytes := 1+rng.IntN(200), 64+rng.IntN(8192)
		r := newRing(maxLines, maxBytes)
		var model [][]byte
		for i := range 2000 {
			n := 1 + rng.IntN(min(maxBytes, 300))
			b := bytes.Repeat([]byte{byte(i)}, n)
			b[0] = byte(i >> 8)
			push(r, b, int64(i))
			model = append(model, b)
			kept := r.lines()
			if kept > maxLines || r.bytes > maxBytes || kept == 0 {
				t.Fatalf("round %d: %d lines, %d bytes; bounds %d, %d", round, kept, r.bytes, maxLines, maxBytes)
			}
			if r.next != uint64(len(model)) {
				t.Fatalf("next = %d, want %d", r.next, len(model))
			}
			// Every kept record is the model's record of that seq.
			for s := r.first; s < r.next; s++ {
				got, ts := r.at(s)
				if !bytes.Equal(got, model[s]) || ts != int64(s) {
					t.Fatalf("round %d: seq %d differs", round, s)
				}
			}
			// And the byte bound did not drop a record that would have
			// fitted without padding and the line bound.
			if s := r.first; s > 0 && kept < maxLines && r.bytes+len(model[s-1])+len(b) <= maxBytes/2 {
				t.Fatalf("round %d: seq %d evicted with plenty of room (%d of %d bytes used)", round, s-1, r.bytes, maxBytes)
			}
		}
	}
}

func TestRingSeek(t *testing.T) {
	t.Parallel()
	r := newRing(100, 1<<16)
	for i := range 10 {
		push(r, []byte("x"), int64(i*10))
	}
	for _, tc := range []struct {
		name string
		ts   int64
		want uint64
	}{
		{"before all", -5, 0},
		{"exact", 50, 5},
		{"between", 55, 6},
		{"after all", 1000, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.Diff(t, tc.want, r.seek(tc.ts))
		})
	}
}

func BenchmarkRingReserve(b *testing.B) {
	r := newRing(10000, 8<<20)
	line := bytes.Repeat([]byte("x"), 200)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		push(r, line, 1)
	}
}
