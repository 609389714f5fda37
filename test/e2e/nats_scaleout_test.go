package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/natsconn/natstest"
)

// scaleMaxAckPending bounds what the aggregators hold unacknowledged at
// any time, and so the duplicates a kill or a server restart can cause.
const scaleMaxAckPending = 4000

// agentConfig: a file source → the nats sink, which creates the stream.
func agentConfig(t *testing.T, dir, name, url string) string {
	cfg := filepath.Join(dir, name+".yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/%[2]s-data
api: { listen: "127.0.0.1:0" }
sources:
  app:
    type: file
    include: [ "%[1]s/in/%[2]s.log" ]
    read_from: beginning
    glob_interval: 100ms
sinks:
  js:
    type: nats
    inputs: [ app ]
    url: %[3]s
    subject: "logs.%[2]s"
    stream: logs
    subjects: [ "logs.>" ]
    ack_timeout: 2s
    batch: { max_events: 2000, timeout: 20ms }
`, dir, name, url))
	return cfg
}

// aggregatorConfig: the nats source on the shared durable → a file sink.
func aggregatorConfig(t *testing.T, dir, name, url string) string {
	cfg := filepath.Join(dir, name+".yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/%[2]s-data
api: { listen: "127.0.0.1:0" }
sources:
  js:
    type: nats
    url: %[3]s
    stream: logs
    durable: aggregators
    subjects: [ "logs.>" ]
    create_stream: true
    batch_size: 1000
    ack_wait: 3s
    max_ack_pending: %[4]d
    shutdown_timeout: 2s
sinks:
  out:
    type: file
    inputs: [ js ]
    path: "%[1]s/out/%[2]s.log"
    encoding: text
    batch: { timeout: 20ms }
`, dir, name, url, scaleMaxAckPending))
	return cfg
}

// TestNATSScaleOut is the scale-out headline: 2 agents (file sources) →
// JetStream (a real nats-server) → 2 aggregators sharing one durable
// consumer → a file each. 200,000 events; one aggregator is killed with
// SIGKILL mid-stream and restarted later, and nats-server is restarted
// mid-stream once. Every event must arrive at least once, duplicates are
// bounded by what the consumer lets be in flight, and both aggregators
// take a substantial share.
func TestNATSScaleOut(t *testing.T) {
	sluiceBin(t)
	srv := natstest.Start(t)
	dir := t.TempDir()
	for _, d := range []string{"in", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const total = 200000
	wa := newLineWriter(t, filepath.Join(dir, "in", "agent1.log"))
	wb := newLineWriter(t, filepath.Join(dir, "in", "agent2.log"))
	wb.next = total / 2 // agent2's lines are numbered after agent1's
	write := func(n int) { wa.write(n / 2); wb.write(n / 2) }

	aggCfg := []string{aggregatorConfig(t, dir, "agg1", srv.URL), aggregatorConfig(t, dir, "agg2", srv.URL)}
	agg1, agg2 := start(t, aggCfg[0], nil), start(t, aggCfg[1], nil)
	agg1.ready()
	agg2.ready()
	a1 := start(t, agentConfig(t, dir, "agent1", srv.URL), nil)
	a2 := start(t, agentConfig(t, dir, "agent2", srv.URL), nil)
	out := filepath.Join(dir, "out", "*.log")
	// Lines are fixed-size: the outputs' size counts lines (duplicates
	// included) without reading them, which polling 200,000 lines would.
	lineLen := int64(len(fmt.Sprintf("line-%07d some payload to make the line a realistic length\n", 0)))
	written := func() int {
		files, _ := filepath.Glob(out)
		var n int64
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				n += st.Size()
			}
		}
		return int(n / lineLen)
	}
	arrived := func(n int) func() bool {
		return func() bool { return written() >= n && len(readLines(t, out)) >= n }
	}
	began := time.Now()

	write(80000)
	waitFor(t, 60*time.Second, "30,000 events through both tiers", arrived(30000))
	agg1.stop(syscall.SIGKILL)
	t.Logf("aggregator 1 killed after %v", time.Since(began).Round(time.Millisecond))

	write(60000)
	waitFor(t, 60*time.Second, "90,000 events with one aggregator", arrived(90000))
	srv.Restart()
	t.Logf("nats-server restarted after %v", time.Since(began).Round(time.Millisecond))

	write(60000)
	waitFor(t, 60*time.Second, "120,000 events after the server restart", arrived(120000))
	agg1 = start(t, aggCfg[0], nil)
	waitFor(t, 90*time.Second, "all 200,000 events", arrived(total))
	t.Logf("all %d events arrived after %v", total, time.Since(began).Round(time.Millisecond))

	for _, p := range []*proc{a1, a2, agg1, agg2} {
		p.stop(syscall.SIGTERM)
	}
	seen := readLines(t, out)
	dups := checkExactlyOnce(t, seen, total, true)
	share1 := len(readLines(t, filepath.Join(dir, "out", "agg1.log")))
	share2 := len(readLines(t, filepath.Join(dir, "out", "agg2.log")))
	t.Logf("aggregator shares: %d and %d distinct events; %d duplicates (bound %d)", share1, share2, dups, 2*scaleMaxAckPending)
	if dups > 2*scaleMaxAckPending {
		t.Errorf("%d duplicates: more than the %d a kill and a server restart can leave in flight", dups, 2*scaleMaxAckPending)
	}
	for i, n := range []int{share1, share2} {
		if n < total/10 {
			t.Errorf("aggregator %d took only %d of %d events", i+1, n, total)
		}
	}
}
