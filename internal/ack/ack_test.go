package ack

import "testing"

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
