package push

import (
	"net"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Apply keeps an unchanged pusher running (a statsd pusher keeps its
// increases), replaces a changed one and stops a removed one.
func TestManagerApply(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, _, _, _ := testStore(t)
	m := NewManager(s, nil, nil)
	cfg := func(interval time.Duration) map[string]config.Pusher {
		c := config.Pusher{Type: "statsd", Address: pc.LocalAddr().String(), Interval: config.Duration(interval)}
		c.PushDefaults()
		return map[string]config.Pusher{"s": c}
	}
	if err := m.Apply(cfg(time.Hour)); err != nil {
		t.Fatal(err)
	}
	first := m.running["s"]
	if err := m.Apply(cfg(time.Hour)); err != nil || m.running["s"] != first {
		t.Fatalf("an unchanged pusher was replaced (err %v)", err)
	}
	if err := m.Apply(cfg(time.Minute)); err != nil || m.running["s"] == first || m.running["s"] == nil {
		t.Fatalf("a changed pusher was not replaced (err %v)", err)
	}
	if err := m.Apply(nil); err != nil || len(m.running) != 0 {
		t.Fatalf("a removed pusher still runs (err %v)", err)
	}
	if err := m.Apply(cfg(time.Hour)); err != nil {
		t.Fatal(err)
	}
	m.Stop(time.Second)
	if h := m.Health(); len(h) != 1 || h[0].ID != "s" {
		t.Fatalf("health after Stop: %+v", h)
	}
}
