package drains

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

const (
	isoApps   = 50
	isoEvents = 2000 // per app
)

// isoRun routes isoEvents events to each of 50 apps, each with its own
// receiver, and returns how long the healthy ones (all but skip) took to
// receive everything.
func isoRun(t *testing.T, rcvs []*receiver, urls []string, skip map[int]bool) (*Router, time.Duration) {
	c := testConfig(t, func(c *Config) {
		c.MaxEvents = isoEvents * 2 // the bad drains must keep everything
		// Long enough that a healthy receiver on a loaded machine never
		// times out after taking a batch (the retry would duplicate it);
		// the hanging receiver fails its held request when released.
		c.Timeout = config.Duration(30 * time.Second)
		c.Static = map[string][]string{}
		for i, u := range urls {
			c.Static["app"+strconv.Itoa(i)] = []string{u}
		}
	})
	r := newRouter(t, c, "")
	start := time.Now()
	const per = 10 // events per app per batch: batches of 500 mixed events
	for first := 0; first < isoEvents; first += per {
		b := &event.Batch{Events: make([]event.Event, 0, isoApps*per)}
		for a := range isoApps {
			b.Events = append(b.Events, batch("app"+strconv.Itoa(a), first, per).Events...)
		}
		write(t, r, b)
	}
	testutil.WaitFor(t, 60*time.Second, "every healthy drain complete", func() bool {
		for i, rc := range rcvs {
			if !skip[i] && rc.total.Load() < isoEvents {
				return false
			}
		}
		return true
	})
	return r, time.Since(start)
}

// TestIsolation50Drains: one drain's receiver accepts and never answers,
// another refuses connections; the other 48 get everything in about the
// time of a fault-free run, and the two bad drains get all of theirs, once
// and in order, after they recover.
func TestIsolation50Drains(t *testing.T) {
	mk := func() ([]*receiver, []string) {
		rcvs := make([]*receiver, isoApps)
		urls := make([]string, isoApps)
		for i := range rcvs {
			rcvs[i] = newReceiver(t)
			urls[i] = rcvs[i].url()
		}
		return rcvs, urls
	}
	cleanRcvs, cleanURLs := mk()
	cleanRouter, clean := isoRun(t, cleanRcvs, cleanURLs, nil)
	_ = cleanRouter.Close(t.Context())

	rcvs, urls := mk()
	rcvs[0].hang.Store(true)
	refused := testutil.FreeAddr(t)
	urls[1] = "http://" + refused + "/in"
	r, faulty := isoRun(t, rcvs, urls, map[int]bool{0: true, 1: true})
	t.Logf("48 healthy drains: %v without faults, %v with a hanging and a refusing drain (%.0f%%)",
		clean, faulty, 100*faulty.Seconds()/clean.Seconds())
	// The bound is loose because the machine is shared; the logged ratio
	// is what BENCHMARKS-style reports quote.
	if faulty > 2*clean+time.Second {
		t.Errorf("healthy drains took %v with faults, %v without", faulty, clean)
	}
	for _, id := range []int{0, 1} {
		if n := rcvs[id].total.Load(); n != 0 {
			t.Fatalf("bad drain %d received %d events while down", id, n)
		}
	}
	var d Drain
	call(t, r.Handler(), "GET", "/api/v1/apps/app1/drains/"+DrainID("app1", urls[1]), "", &d)
	if d.Status != "failing" || d.LastError == "" || d.Buffered == 0 {
		t.Fatalf("refusing drain shows %+v", d)
	}

	rcvs[0].release()
	late := newReceiverAt(t, refused)
	testutil.WaitFor(t, 30*time.Second, "the recovered drains to catch up", func() bool {
		return rcvs[0].total.Load() == isoEvents && late.total.Load() == isoEvents
	})
	all := append(rcvs[2:], rcvs[0], late)
	for i, rc := range all {
		app := "app" + strconv.Itoa(i+2)
		switch rc {
		case rcvs[0]:
			app = "app0"
		case late:
			app = "app1"
		}
		got := rc.messages(app)
		if len(got) != isoEvents {
			t.Fatalf("%s: %d events, want %d", app, len(got), isoEvents)
		}
		for j, m := range got {
			if want := fmt.Sprintf("%s %d", app, j); m != want {
				t.Fatalf("%s event %d = %q, want %q", app, j, m, want)
			}
		}
	}
}
