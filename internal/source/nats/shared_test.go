package nats

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestSharedDurable: two instances on one durable consumer split the
// stream between them, every message reaching exactly one of them when
// everything is acknowledged.
func TestSharedDurable(t *testing.T) {
	testutil.SkipIfShort(t)
	srv := natstest.Start(t)
	js := streamJS(t, srv)
	cfg := cfgFor(t, srv.URL)
	cfg.BatchSize = 20
	const n = 2000
	var mu sync.Mutex
	got := map[string]int{}
	per := [2]int{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 2 {
		src, err := New(cfg, testutil.Deps(t, fmt.Sprint("agg", i)))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			_ = src.Run(ctx, func(_ context.Context, b *event.Batch) error {
				mu.Lock()
				for _, e := range b.Events {
					got[string(e.Message)]++
				}
				per[i] += len(b.Events)
				mu.Unlock()
				b.Ack.Release(0)
				return nil
			})
		})
	}
	defer func() { cancel(); wg.Wait() }()
	var buf []byte
	for i := range n {
		e := event.Event{Timestamp: time.Now(), Message: fmt.Appendf(nil, "m-%d", i)}
		buf = codec.JSON.Encode(buf[:0], &e)
		if err := publish(t, js, buf); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 20*time.Second, "every message consumed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for m, c := range got {
		if c != 1 {
			t.Errorf("%s consumed %d times", m, c)
		}
	}
	if per[0] < n/10 || per[1] < n/10 {
		t.Errorf("the instances took %d and %d of %d: not shared", per[0], per[1], n)
	}
	t.Logf("instances took %d and %d", per[0], per[1])
}
