package parser

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func fl(k string, v int64) event.Field { return event.Field{Key: k, Value: event.Int(v)} }

func TestUnique(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    event.Fields
		start int
		want  event.Fields
	}{
		{name: "no duplicates", in: event.Fields{fl("a", 1), fl("b", 2)}, want: event.Fields{fl("a", 1), fl("b", 2)}},
		{name: "last wins at first position", in: event.Fields{fl("a", 1), fl("b", 2), fl("a", 3), fl("a", 4)},
			want: event.Fields{fl("a", 4), fl("b", 2)}},
		{name: "same signature, different keys", in: event.Fields{fl("ab", 1), fl("ab", 2), fl("a_b", 3), fl("acb", 4)},
			want: event.Fields{fl("ab", 2), fl("a_b", 3), fl("acb", 4)}},
		{name: "empty keys", in: event.Fields{fl("", 1), fl("", 2)}, want: event.Fields{fl("", 2)}},
		{name: "prefix before start is not compared", start: 2,
			in:   event.Fields{fl("a", 1), fl("a", 2), fl("b", 3), fl("b", 4)},
			want: event.Fields{fl("a", 1), fl("a", 2), fl("b", 4)}},
		{name: "nil", in: nil, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Unique(tc.in, tc.start)
			testutil.Diff(t, tc.want, got, cmp.AllowUnexported(event.Value{}))
			for _, f := range tc.in[len(got):cap(tc.in[:len(tc.in)])] {
				if f.Key != "" || f.Value.Kind() != event.KindNull {
					t.Errorf("left-over field %v not cleared", f)
				}
			}
		})
	}
}

func TestViewAndBytes(t *testing.T) {
	t.Parallel()
	b := []byte("hello")
	s := View(b)
	if s != "hello" || View(nil) != "" || string(Bytes(s)) != "hello" || len(Bytes("")) != 0 {
		t.Fatalf("View/Bytes round trip failed: %q", s)
	}
	if &Bytes(s)[0] != &b[0] {
		t.Error("View copied the bytes")
	}
}
