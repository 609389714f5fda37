package ack

import (
	"testing"

	"pgregory.net/rapid"
)

func TestTokenReportsWorstOnce(t *testing.T) {
	var calls []Status
	tok := New(func(s Status) { calls = append(calls, s) })
	tok.Retain(2)
	tok.Release(Delivered)
	tok.Release(Rejected)
	if len(calls) != 0 {
		t.Fatal("done before the last release")
	}
	tok.Release(Delivered)
	if len(calls) != 1 || calls[0] != Rejected {
		t.Fatalf("calls %v, want [rejected]", calls)
	}
}

func TestJoin(t *testing.T) {
	var a, b []Status
	ta := New(func(s Status) { a = append(a, s) })
	tb := New(func(s Status) { b = append(b, s) })
	Join(ta, nil, tb).Release(Dropped)
	if len(a) != 1 || len(b) != 1 || a[0] != Dropped {
		t.Fatalf("a %v b %v", a, b)
	}
	if Join(nil, nil) != nil {
		t.Fatal("join of nothing should be nil")
	}
}

func TestNilTokenIsInert(t *testing.T) {
	var tok *Token
	tok.Retain(3)
	tok.Release(Abandoned)
}

// TestWindowModel checks the window against a simple model under random
// out-of-order completion: the committed position is always the end of
// the longest done prefix, and never passes an abandoned batch.
func TestWindowModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var w Window[int]
		n := rapid.IntRange(1, 40).Draw(t, "batches")
		seqs := make([]uint64, n)
		for i := range n {
			seqs[i] = w.Add(i + 1)
		}
		order := rapid.Permutation(seqsIndex(n)).Draw(t, "order")
		done := make([]bool, n)
		abandonedAt := -1
		committed := 0
		for _, i := range order {
			st := Delivered
			if rapid.IntRange(0, 20).Draw(t, "abandon") == 0 {
				st = Abandoned
				if abandonedAt < 0 || i < abandonedAt {
					abandonedAt = i
				}
			}
			done[i] = true
			if pos, ok := w.Done(seqs[i], st); ok {
				committed = pos
			}
			want := 0
			for j := 0; j < n && done[j] && (abandonedAt < 0 || j < abandonedAt); j++ {
				want = j + 1
			}
			if abandonedAt >= 0 && want > abandonedAt {
				want = abandonedAt
			}
			if committed != want {
				t.Fatalf("committed %d, want %d (abandoned at %d)", committed, want, abandonedAt)
			}
		}
		if w.Pending() != 0 {
			t.Fatalf("%d pending after all done", w.Pending())
		}
	})
}

func seqsIndex(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
