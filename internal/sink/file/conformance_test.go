package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// TestConformance runs the suite against a file in a temporary directory.
// The file sink writes straight to an open file: there is no peer to
// fail, restart or hang, so those checks are skipped.
func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		path := filepath.Join(t.TempDir(), "out.log")
		s := mustSink(t, config0(path))
		return &sinktest.Instance{Sink: s, Received: func() []string {
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		}}
	}})
}
