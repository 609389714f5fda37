package blackhole

import (
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// TestConformance: the blackhole has no peer to read back, fail, restart
// or hang, so the suite checks only its outcomes and lifecycle.
func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		s, err := New(testutil.NewConfig[Config](t, nil), testutil.Deps(t, "blackhole"))
		if err != nil {
			t.Fatal(err)
		}
		return &sinktest.Instance{Sink: s}
	}})
}
