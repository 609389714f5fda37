package elasticsearch

import (
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	tu "github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// received returns the stored messages in the order they were stored.
func (f *fakeES) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.order...)
}

// TestConformance runs the sink conformance suite against the fake
// cluster; "mapping-bad" documents are refused for good, per item.
func TestConformance(t *testing.T) {
	for _, compression := range []string{"gzip", "none"} {
		t.Run(compression, func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{RejectMarker: "mapping-bad", New: func(t *testing.T) *sinktest.Instance {
				es := newFakeES()
				peer := sinktest.NewHTTPPeer(t, es)
				c := tu.NewConfig(t, func(c *Config) {
					c.URL, c.Index, c.Compression = config.URL(peer.URL), "logs", compression
				})
				s, err := New(c, tu.Deps(t, "es"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close(t.Context()) })
				return &sinktest.Instance{Sink: s, Received: es.received,
					Break: peer.Break, Restart: peer.Restart, Hang: peer.Hang}
			}})
		})
	}
}
