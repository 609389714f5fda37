package push

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/testutil"
)

// flaky is a sender that fails while down, recording what it delivered.
type flaky struct {
	mu   sync.Mutex
	down bool
	got  [][]byte
}

func (f *flaky) send(_ context.Context, chunks [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("connection refused")
	}
	f.got = append(f.got, chunks...)
	return nil
}

func (f *flaky) close() {}

func (f *flaky) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *flaky) delivered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strs(f.got)
}

// A destination that is down: failures counted, the pusher failed in its
// health, the oldest intervals dropped past max_pending; once it is back
// the pusher catches up with the intervals it kept, in order.
func TestPusherDownDropsOldestAndCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, c, _, _ := testStore(t)
		m := NewMetrics(prometheus.NewRegistry())
		cfg := config.Pusher{Type: "graphite", Address: "127.0.0.1:1", Tags: "tags", MaxPending: 2,
			Interval: config.Duration(10 * time.Second), Timeout: config.Duration(time.Second)}
		p, err := New("g", cfg, s, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := &flaky{down: true}
		p.out = out
		p.Start()
		for range 5 { // five intervals while down: the first three are dropped
			c.Add(key("GET", "200"), 1)
			time.Sleep(10 * time.Second)
			synctest.Wait()
		}
		if h := p.Health(); h.State != pipeline.StateFailed || h.Error != "connection refused" {
			t.Fatalf("health %+v, want failed", h)
		}
		if n := testutil.CounterValue(t, m.failures.WithLabelValues("g")); n < 5 {
			t.Errorf("failures %v, want at least 5", n)
		}
		testutil.Diff(t, 3.0, testutil.CounterValue(t, m.dropped.WithLabelValues("g")))
		out.set(false)
		time.Sleep(30 * time.Second) // the longest backoff is one interval
		synctest.Wait()
		testutil.Diff(t, []string{
			"requests_total;code=200;method=GET 4 " + itoa(time.Now().Add(-40*time.Second)) + "\n",
			"requests_total;code=200;method=GET 5 " + itoa(time.Now().Add(-30*time.Second)) + "\n",
		}, out.delivered()[:2])
		if h := p.Health(); h.State != pipeline.StateRunning {
			t.Fatalf("health %+v, want running again", h)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		c.Add(key("GET", "200"), 1)
		p.Stop(ctx) // the final values
		got := out.delivered()
		testutil.Diff(t, "requests_total;code=200;method=GET 6 "+itoa(time.Now())+"\n", got[len(got)-1])
	})
}

func itoa(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// statsd over UDP, byte for byte at a real socket: the final push of a
// Stop, split at the MTU.
func TestStatsdUDP(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, c, g, h := testStore(t)
	cfg := config.Pusher{Type: "statsd", Address: pc.LocalAddr().String()}
	cfg.PushDefaults()
	cfg.MTU = 100
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New("s", cfg, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	fill(c, g, h)
	p.Stop(t.Context())
	var got []string
	buf := make([]byte, 2000)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	testutil.Diff(t, []string{
		"latency_seconds_count.path./a:3|c\nlatency_seconds_sum.path./a:3.55|c\nqueue_depth:7.5|g",
		"requests_total.code.200.method.GET:3|c\nrequests_total.code.500.method.POST:1|c",
	}, got)
}
