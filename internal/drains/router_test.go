package drains

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestStaticRoutesDeliverNDJSONPerApp(t *testing.T) {
	a, b, both := newReceiver(t), newReceiver(t), newReceiver(t)
	c := testConfig(t, func(c *Config) {
		c.Static = map[string][]string{"web": {a.url(), both.url()}, "db": {b.url(), both.url()}}
	})
	r := newRouter(t, c, "")
	write(t, r, batch("web", 0, 100))
	write(t, r, batch("db", 0, 50))
	write(t, r, batch("nobody", 0, 7))
	testutil.WaitFor(t, 5*time.Second, "all events at their drains", func() bool {
		return a.total.Load() == 100 && b.total.Load() == 50 && both.total.Load() == 150
	})
	want := func(app string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s %d", app, i)
		}
		return out
	}
	testutil.Diff(t, want("web", 100), a.messages("web"))
	testutil.Diff(t, want("db", 50), b.messages("db"))
	testutil.Diff(t, want("web", 100), both.messages("web"))
	testutil.Diff(t, 7.0, testutil.CounterValue(t, r.mUnrouted))
}

func TestAppFieldAndUnroutedDrain(t *testing.T) {
	app, rest := newReceiver(t), newReceiver(t)
	c := testConfig(t, func(c *Config) {
		c.AppField = "app"
		c.Static = map[string][]string{"billing": {app.url()}}
		c.Unrouted = rest.url()
	})
	r := newRouter(t, c, "")
	b := batch("s", 0, 4)
	b.Events[0].Fields.Set("app", event.String("billing"))
	b.Events[1].Fields.Set("app", event.String("billing"))
	b.Events[2].Fields.Set("app", event.Int(3)) // not a string: no app
	write(t, r, b)
	testutil.WaitFor(t, 5*time.Second, "routed and unrouted events", func() bool {
		return app.total.Load() == 2 && rest.total.Load() == 2
	})
}

func TestQueueDropsOldestAndCounts(t *testing.T) {
	q := newQueue(3)
	for i := range 5 {
		q.push(batch("a", i, 1).Events)
	}
	got := q.take(nil, 10)
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, string(e.Message))
	}
	testutil.Diff(t, []string{"a 2", "a 3", "a 4"}, msgs)
	n, since := q.takeDrops()
	if n != 2 || since.IsZero() || q.droppedTotal() != 2 {
		t.Fatalf("drops = %d since %v (total %d), want 2", n, since, q.droppedTotal())
	}
	if n, _ := q.takeDrops(); n != 0 {
		t.Fatalf("drops after taking them = %d, want 0", n)
	}
	q.close()
	if _, ok := q.push(batch("a", 9, 1).Events); ok {
		t.Fatal("push into a closed queue was taken")
	}
}

func TestRecoveryAfterDropsInjectsL10Warning(t *testing.T) {
	addr := testutil.FreeAddr(t) // refuses until the receiver starts there
	url := "http://" + addr + "/in"
	c := testConfig(t, func(c *Config) {
		c.MaxEvents = 10
		c.BatchEvents = 10
		c.Static = map[string][]string{"web": {url}}
	})
	r := newRouter(t, c, "")
	for i := range 10 {
		write(t, r, batch("web", i*10, 10))
	}
	in := r.byApp["web"][0]
	testutil.WaitFor(t, 5*time.Second, "the drain reported failing", func() bool {
		s, _ := in.status()
		return s == "failing"
	})
	if in.q.droppedTotal() < 80 {
		t.Fatalf("dropped %d, want at least 80 of 100 with room for 10", in.q.droppedTotal())
	}
	rcv := newReceiverAt(t, addr)
	testutil.WaitFor(t, 5*time.Second, "the L10 warning", func() bool {
		return slices.ContainsFunc(rcv.messages("web"), func(m string) bool {
			return strings.HasPrefix(m, "Error L10 (output buffer overflow): ")
		})
	})
	dropped := in.q.droppedTotal()
	// Every event written is delivered or counted as dropped; the warning
	// is one more.
	testutil.WaitFor(t, 5*time.Second, "in = out + dropped", func() bool {
		return rcv.total.Load() == 100-dropped+1
	})
	if s, _ := in.status(); s != "connected" {
		t.Fatalf("status after recovery = %s", s)
	}
}

func TestBadStaticURLFailsValidate(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"unknown scheme", "ftp://x", "unknown drain scheme"},
		{"no host", "https://", "has no host"},
		{"syslog option", "syslog+tcp://h:514?x=1", "unknown option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{}
			c.Defaults()
			c.Static = map[string][]string{"a": {tc.url}}
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkRouterWrite routes batches of 500 events of 50 apps to 50
// drains: with live receivers (whole delivery, process-wide allocations),
// and with refusing drains, whose queues only drop (routing alone).
func BenchmarkRouterWrite(b *testing.B) {
	b.Run("delivering", func(b *testing.B) { benchRouter(b, newReceiver(b).url()) })
	b.Run("routing_only", func(b *testing.B) { benchRouter(b, "http://"+testutil.FreeAddr(b)+"/in") })
}

func benchRouter(b *testing.B, url string) {
	c := &Config{}
	c.Defaults()
	c.MaxEvents = 1000
	c.Static = map[string][]string{}
	for i := range 50 {
		c.Static[fmt.Sprintf("app%d", i)] = []string{url}
	}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	s, err := New(c, testutil.Deps(b, "drains"))
	if err != nil {
		b.Fatal(err)
	}
	r := s.(*Router)
	defer func() { _ = r.Close(b.Context()) }()
	bt := &event.Batch{Events: make([]event.Event, 500)}
	for i := range bt.Events {
		bt.Events[i] = event.Event{Stream: fmt.Sprintf("app%d", i%50), Message: []byte("GET / 200")}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Write(b.Context(), bt)
	}
	b.ReportMetric(float64(b.N*len(bt.Events))/b.Elapsed().Seconds(), "events/s")
}
