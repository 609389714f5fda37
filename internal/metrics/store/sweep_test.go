package store_test

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestSweepEvery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		expires []time.Duration
		want    time.Duration
	}{
		{name: "no family", want: time.Minute},
		{name: "never expires", expires: []time.Duration{0}, want: time.Minute},
		{name: "half the shortest", expires: []time.Duration{10 * time.Second, time.Hour, 0}, want: 5 * time.Second},
		{name: "at most a minute", expires: []time.Duration{10 * time.Minute}, want: time.Minute},
		{name: "at least a second", expires: []time.Duration{100 * time.Millisecond}, want: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := store.New(0, nil, nil)
			for i, e := range tc.expires {
				s.Family(store.Options{Name: string(rune('a' + i)), ExpireAfter: e})
			}
			testutil.Diff(t, tc.want, s.SweepEvery())
		})
	}
}

// TestSweeperExpiresWithoutScrape: idle series go away on the sweeper's
// timer alone, and series in use stay.
func TestSweeperExpiresWithoutScrape(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := store.New(0, nil, nil)
		f := s.Family(store.Options{Name: "c", Labels: []string{"k"}, ExpireAfter: 10 * time.Second})
		f.Add(key("idle"), 1)
		f.Add(key("busy"), 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); s.RunSweeper(ctx) }()
		for range 3 { // 15 s: "idle" is past 10 s, "busy" is updated every 5 s
			time.Sleep(5 * time.Second)
			f.Add(key("busy"), 1)
		}
		synctest.Wait()
		testutil.Diff(t, 1, s.Series())
		testutil.Diff(t, 1, f.Len())
		cancel()
		<-done
	})
}

// TestOnGrowth: the hook hears of every 32768th new series and of sweeps.
func TestOnGrowth(t *testing.T) {
	t.Parallel()
	s := store.New(1<<20, nil, nil)
	var got []int64
	s.OnGrowth(func(n int64) { got = append(got, n) })
	f := s.Family(store.Options{Name: "c", Labels: []string{"k"}})
	var k []byte
	for i := range 70000 {
		k = store.AppendKeyString(k[:0], strconv.Itoa(i))
		f.Add(k, 1)
	}
	s.Sweep()
	testutil.Diff(t, []int64{32768, 65536, 70000}, got)
}
