package checkpoint

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/testutil"
)

type doc struct {
	Version int              `json:"version"`
	Offsets map[string]int64 `json:"offsets"`
}

func TestStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(dir, "state.json")
	if err != nil {
		t.Fatal(err)
	}
	var got doc
	if ok, err := s.Load(&got); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	for _, want := range []doc{
		{Version: 1, Offsets: map[string]int64{"x": 1}},
		{Version: 1, Offsets: map[string]int64{"x": 2, "y": 3}},
	} {
		if err := s.Save(want); err != nil {
			t.Fatal(err)
		}
		s2, _ := Open(dir, "state.json")
		got = doc{}
		if ok, err := s2.Load(&got); !ok || err != nil {
			t.Fatalf("load: ok=%v err=%v", ok, err)
		}
		testutil.Diff(t, want, got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if st, _ := os.Stat(s.Path()); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestStoreSkipsUnchanged(t *testing.T) {
	s, _ := Open(t.TempDir(), "c.json")
	if err := s.Save(doc{Version: 1}); err != nil {
		t.Fatal(err)
	}
	// Remove the file behind the store's back: an unchanged Save must not
	// write it again, a changed one must.
	if err := os.Remove(s.Path()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(doc{Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); err == nil {
		t.Fatal("unchanged document was written again")
	}
	if err := s.Save(doc{Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("changed document not written: %v", err)
	}
}

func TestStoreCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, "c.json")
	if err := os.WriteFile(s.Path(), []byte(`{"version": 1, "offs`), 0o600); err != nil {
		t.Fatal(err)
	}
	var d doc
	ok, err := s.Load(&d)
	if ok || err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("ok=%v err=%v; want a decoding error", ok, err)
	}
	if _, err := os.Stat(s.Path() + ".corrupt"); err != nil {
		t.Errorf("corrupt file not kept: %v", err)
	}
	if ok, err := s.Load(&d); ok || err != nil {
		t.Errorf("after moving aside: ok=%v err=%v", ok, err)
	}
}

func TestTracker(t *testing.T) {
	type rel struct {
		seq    int
		status ack.Status
	}
	for _, tc := range []struct {
		name    string
		batches int
		release []rel
		want    int64 // committed offset; batch i ends at (i+1)*10
		blocked bool
	}{
		{"in order", 3, []rel{{0, ack.Delivered}, {1, ack.Delivered}, {2, ack.Delivered}}, 30, false},
		{"out of order waits for gap", 3, []rel{{2, ack.Delivered}, {1, ack.Delivered}}, 0, false},
		{"gap filled", 3, []rel{{2, ack.Delivered}, {1, ack.Delivered}, {0, ack.Delivered}}, 30, false},
		{"partial prefix", 4, []rel{{0, ack.Delivered}, {3, ack.Delivered}, {1, ack.Rejected}}, 20, false},
		{"dropped and rejected commit", 2, []rel{{0, ack.Dropped}, {1, ack.Rejected}}, 20, false},
		{"abandoned stops", 3, []rel{{0, ack.Delivered}, {1, ack.Abandoned}, {2, ack.Delivered}}, 10, true},
		{"abandoned first", 2, []rel{{1, ack.Delivered}, {0, ack.Abandoned}}, 0, true},
		{"none released", 2, nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker[int64](0)
			for i := range tc.batches {
				if seq := tr.Add(int64(i+1) * 10); seq != uint64(i) {
					t.Fatalf("seq %d, want %d", seq, i)
				}
			}
			for _, r := range tc.release {
				tr.Done(uint64(r.seq), r.status)
			}
			if got := tr.Committed(); got != tc.want {
				t.Errorf("committed %d, want %d", got, tc.want)
			}
			if got := tr.Blocked(); got != tc.blocked {
				t.Errorf("blocked %v, want %v", got, tc.blocked)
			}
			if got, want := tr.Pending(), tc.batches-len(tc.release); got != want {
				t.Errorf("pending %d, want %d", got, want)
			}
		})
	}
}

func TestTrackerDoubleReleasePanics(t *testing.T) {
	tr := NewTracker[int64](0)
	tr.Done(tr.Add(1), ack.Delivered)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	tr.Done(0, ack.Delivered)
}

func TestTrackerTokenConcurrent(t *testing.T) {
	tr := NewTracker[int64](0)
	var mu sync.Mutex
	moves := 0
	var toks []*ack.Token
	for i := range 1000 {
		toks = append(toks, tr.Token(int64(i+1), func(_ ack.Status, moved bool) {
			if moved {
				mu.Lock()
				moves++
				mu.Unlock()
			}
		}))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := len(toks) - 1 - w; i >= 0; i -= 4 {
				toks[i].Release(ack.Delivered)
			}
		})
	}
	wg.Wait()
	if tr.Committed() != 1000 || tr.Pending() != 0 || moves == 0 {
		t.Fatalf("committed %d pending %d moves %d", tr.Committed(), tr.Pending(), moves)
	}
}

// TestTrackerModel checks the tracker against a plain model under random
// add and release sequences.
func TestTrackerModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr := NewTracker[int](-1)
		var released []bool
		var status []ack.Status
		steps := rapid.IntRange(1, 200).Draw(t, "steps")
		for range steps {
			var open []int
			for i, r := range released {
				if !r {
					open = append(open, i)
				}
			}
			if len(open) == 0 || rapid.Bool().Draw(t, "add") {
				tr.Add(len(released))
				released = append(released, false)
				status = append(status, 0)
				continue
			}
			i := rapid.SampledFrom(open).Draw(t, "release")
			s := rapid.SampledFrom([]ack.Status{ack.Delivered, ack.Rejected, ack.Dropped, ack.Abandoned}).Draw(t, "status")
			released[i], status[i] = true, s
			tr.Done(uint64(i), s)
			want := -1
			for j := range released {
				if !released[j] || !status[j].Committable() {
					break
				}
				want = j
			}
			if got := tr.Committed(); got != want {
				t.Fatalf("committed %d, want %d", got, want)
			}
		}
	})
}
