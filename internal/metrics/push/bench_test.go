package push

import (
	"fmt"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
)

// benchSnapshot is 1000 counter series with two labels and 100 histogram
// series of 10 buckets: 2,200 samples as Prometheus counts them.
func benchSnapshot(b *testing.B) *snapshot {
	s, c, _, h := testStore(b)
	for i := range 1000 {
		c.Add(key([]string{"GET", "POST"}[i%2], fmt.Sprint(200+i)), float64(i))
	}
	for i := range 100 {
		h.Observe(key(fmt.Sprintf("/p%d", i)), float64(i)/50)
	}
	return take(s, at)
}

// BenchmarkEncode is the work of one push, per protocol: the snapshot
// taken every interval, encoded off the pipeline's path.
func BenchmarkEncode(b *testing.B) {
	snap := benchSnapshot(b)
	cd := func(addr string) encoder {
		e, _, err := newCollectd(config.Pusher{Address: addr, Host: "h", Plugin: "sluice", Interval: 10e9, MTU: 1452})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		name string
		enc  encoder
	}{
		{"graphite", &graphite{}},
		{"statsd", newStatsd(config.Pusher{MTU: 1432, Tags: "path"})},
		{"collectd-unixsock", cd("unix:///x")},
		{"collectd-network", cd("udp://127.0.0.1:1")},
		{"remote_write", &remoteWrite{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.enc.encode(snap)
			}
		})
	}
}

// BenchmarkSnapshot is the read of the store each push makes (the
// families' locks are held only while series are copied).
func BenchmarkSnapshot(b *testing.B) {
	s, c, _, h := testStore(b)
	for i := range 1000 {
		c.Add(key("GET", fmt.Sprint(i)), 1)
	}
	for i := range 100 {
		h.Observe(key(fmt.Sprint(i)), 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		take(s, at)
	}
}
