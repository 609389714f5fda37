package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Snapshot neither resets reset_on_scrape series nor sweeps idle ones,
// and its copies do not follow later updates.
func TestSnapshotChangesNothing(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	s := store.New(0, c.now, nil)
	f := s.Family(store.Options{Name: "x", Kind: store.Counter, Labels: []string{"a"},
		ResetOnScrape: true, ExpireAfter: time.Minute})
	h := s.Family(store.Options{Name: "h", Kind: store.Histogram, Buckets: []float64{1}})
	f.Add(key("v"), 3)
	h.Observe(nil, 0.5)
	c.add(2 * time.Minute) // idle past expire_after
	var got []string
	f.Snapshot(func(x store.Series) { got = append(got, fmt.Sprint(x.Labels, x.Value)) })
	var hs store.Series
	h.Snapshot(func(x store.Series) { hs = x })
	h.Observe(nil, 5) // after the copy
	got = append(got, fmt.Sprint(hs.Counts, hs.Sum, hs.Count))
	f.Snapshot(func(x store.Series) { got = append(got, fmt.Sprint(x.Labels, x.Value)) }) // not reset
	testutil.Diff(t, []string{"[v] 3", "[1 0] 0.5 1", "[v] 3"}, got)
	if f.Len() != 1 {
		t.Fatalf("the idle series was swept: %d series", f.Len())
	}
}
