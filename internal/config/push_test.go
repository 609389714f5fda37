package config

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// metrics.push entries get their defaults by type.
func TestPushDefaults(t *testing.T) {
	cfg, err := Parse("push.yaml", []byte(`
sources:
  a: { type: cfgsrc }
sinks:
  b: { type: cfgsink, inputs: [ a ] }
metrics:
  push:
    g: { type: graphite, address: "127.0.0.1:2003" }
    s: { type: statsd, address: "127.0.0.1:8125", interval: 1s }
    c: { type: collectd, address: "unix:///run/collectd.sock", host: web1 }
    r: { type: remote_write, url: "https://vm:8428/api/v1/write", auth: { token: t0k } }
`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := func(x time.Duration) Duration { return Duration(x) }
	testutil.Diff(t, map[string]Pusher{
		"g": {Type: "graphite", Address: "127.0.0.1:2003", Interval: d(10 * time.Second), Timeout: d(5 * time.Second), Tags: "tags", MaxPending: 6},
		"s": {Type: "statsd", Address: "127.0.0.1:8125", Interval: d(time.Second), Timeout: d(5 * time.Second), Tags: "path", MTU: 1432, MaxPending: 6},
		"c": {Type: "collectd", Address: "unix:///run/collectd.sock", Interval: d(10 * time.Second), Timeout: d(5 * time.Second), MTU: 1452, Host: "web1", Plugin: "sluice", MaxPending: 6},
		"r": {Type: "remote_write", URL: "https://vm:8428/api/v1/write", Interval: d(10 * time.Second), Timeout: d(5 * time.Second), MaxPending: 6, Auth: PushAuth{Token: "t0k"}},
	}, cfg.Metrics.Push)
}
