package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpConfig is a file source feeding an http sink with the given buffer.
func httpConfig(t *testing.T, dir, url, buffer string) string {
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: "127.0.0.1:0" }
sources:
  app: { type: file, include: [ "%[1]s/in/*.log" ], read_from: beginning, glob_interval: 100ms }
sinks:
  receiver:
    type: http
    inputs: [ app ]
    url: %[2]s
    batch: { max_events: 500, timeout: 50ms }
    retry: { initial_backoff: 50ms, max_backoff: 1s }
    buffer: %[3]s
`, dir, url, buffer))
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestSinkDownThirtySeconds: the receiver is unreachable for 30 s while
// 100,000 events arrive, then comes back: every event is delivered.
func TestSinkDownThirtySeconds(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	cfg := httpConfig(t, dir, rcv.url(), "{ max_events: 20000 }")
	w := newLineWriter(t, filepath.Join(dir, "in", "app.log"))
	p := start(t, cfg, nil)
	began := time.Now()
	// The load: 100k events over about 25 s, at a steady rate.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 100; i++ {
		w.write(1000)
		<-tick.C
	}
	waitFor(t, 60*time.Second, "30 s of refused deliveries", func() bool {
		return time.Since(began) >= 30*time.Second && rcv.refusals() > 0
	})
	if rcv.count() != 0 { // cannot happen while down: a sanity check of the receiver
		t.Fatal("receiver got events while down")
	}
	rcv.start()
	waitFor(t, 120*time.Second, "all events after the receiver came back", func() bool { return rcv.count() >= w.next })
	errs := metric(t, p.api(), `sluice_component_errors_total{component_id="receiver"`)
	p.stop(syscall.SIGTERM)
	dups := checkExactlyOnce(t, rcv.snapshot(), w.next, true)
	t.Logf("delivered %d events after 30 s down; %v failed writes retried; %d duplicates", w.next, errs, dups)
	if errs == 0 {
		t.Error("no failed writes counted while the receiver was down")
	}
}

// TestKill9WithDiskBuffer kills sluice while its disk buffer holds events
// the slow receiver has not taken yet: after a restart every event arrives.
func TestKill9WithDiskBuffer(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	rcv.setDelay(20 * time.Millisecond)
	rcv.start()
	cfg := httpConfig(t, dir, rcv.url(), "{ type: disk, max_size: 256MiB }")
	w := newLineWriter(t, filepath.Join(dir, "in", "app.log"))
	w.write(100000)
	p := start(t, cfg, nil)
	waitFor(t, 60*time.Second, "some events delivered", func() bool { return rcv.count() > 5000 })
	p.stop(syscall.SIGKILL)
	before := rcv.count()
	rcv.setDelay(0)
	p = start(t, cfg, nil)
	waitFor(t, 120*time.Second, "all events after kill -9", func() bool { return rcv.count() >= w.next })
	p.stop(syscall.SIGTERM)
	dups := checkExactlyOnce(t, rcv.snapshot(), w.next, true)
	t.Logf("killed after %d of %d delivered; %d duplicates after restart (at-least-once)", before, w.next, dups)
}

// TestDiskBufferFull fills a small disk buffer while the receiver is down.
// With block the file source stops reading and nothing is lost; with
// drop_newest the drop counter equals the events missing.
func TestDiskBufferFull(t *testing.T) {
	for _, whenFull := range []string{"block", "drop_newest"} {
		t.Run(whenFull, func(t *testing.T) {
			dir := t.TempDir()
			rcv := newReceiver(t)
			cfg := httpConfig(t, dir, rcv.url(), "{ type: disk, max_size: 1MiB, when_full: "+whenFull+" }")
			w := newLineWriter(t, filepath.Join(dir, "in", "app.log"))
			w.write(50000) // about 3.7 MB of messages, several times the buffer
			p := start(t, cfg, nil)
			api := p.api()
			read := func() float64 {
				return metric(t, api, `sluice_component_sent_events_total{component_id="app"`)
			}
			// Wait until reading stops moving: the buffer is full.
			last := waitSettled(t, 60*time.Second, "the source to stall or finish", read)
			if whenFull == "block" && last >= float64(w.next) {
				t.Fatalf("source read all %d events although the buffer holds 1MiB and the sink is down", w.next)
			}
			rcv.start()
			if whenFull == "block" {
				waitFor(t, 120*time.Second, "all events", func() bool { return rcv.count() >= w.next })
				p.stop(syscall.SIGTERM)
				checkExactlyOnce(t, rcv.snapshot(), w.next, true)
				return
			}
			waitFor(t, 60*time.Second, "the source to read everything", func() bool { return read() >= float64(w.next) })
			dropped := metric(t, api, `sluice_component_dropped_events_total{component_id="receiver"`)
			waitFor(t, 60*time.Second, "delivered + dropped = written", func() bool {
				return float64(rcv.count())+dropped >= float64(w.next)
			})
			p.stop(syscall.SIGTERM)
			missing := w.next - rcv.count()
			if dropped == 0 || int(dropped) != missing {
				t.Errorf("dropped counter %v, events missing %d", dropped, missing)
			}
		})
	}
}

// TestCorruptBufferSegment damages a disk buffer while sluice is stopped:
// a flipped byte in a segment and a torn last record. sluice starts,
// quarantines the bad segment, reports it, and delivers the rest.
func TestCorruptBufferSegment(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	cfg := httpConfig(t, dir, rcv.url(), "{ type: disk, max_size: 4MiB }") // segments of 1MiB
	w := newLineWriter(t, filepath.Join(dir, "in", "app.log"))
	w.write(20000)
	p := start(t, cfg, nil, "--grace", "1s")
	api := p.api()
	waitFor(t, 60*time.Second, "events in the disk buffer", func() bool {
		return metric(t, api, `sluice_buffer_events{component_id="receiver"`) >= float64(w.next)
	})
	p.stop(syscall.SIGTERM)
	segs, _ := filepath.Glob(filepath.Join(dir, "data", "sinks", "receiver", "buffer", "*.seg"))
	if len(segs) == 0 {
		t.Fatalf("no segment files in the buffer dir")
	}
	flipByte(t, segs[0], 0.5)
	last := segs[len(segs)-1]
	st, _ := os.Stat(last)
	if err := os.Truncate(last, st.Size()-7); err != nil {
		t.Fatal(err)
	}
	rcv.start()
	p = start(t, cfg, nil)
	api = p.api()
	waitFor(t, 30*time.Second, "corruption to be reported", func() bool {
		return metric(t, api, "sluice_buffer_corrupt_segments_total") >= 1
	})
	waitFor(t, 30*time.Second, "the damaged segment to be quarantined as .bad", func() bool {
		bad, _ := filepath.Glob(filepath.Join(dir, "data", "sinks", "receiver", "buffer", "*.bad"))
		return len(bad) > 0
	})
	waitFor(t, 30*time.Second, "the rest to be delivered", func() bool { return rcv.count() > 0 })
	p.stop(syscall.SIGTERM)
	if !strings.Contains(strings.ToLower(p.stderr.String()), "quarantin") {
		t.Errorf("the log does not mention the quarantine")
	}
	t.Logf("delivered %d of %d events from a damaged buffer", rcv.count(), w.next)
}

func flipByte(t *testing.T, path string, at float64) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := int(float64(len(data)) * at)
	data[i] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
