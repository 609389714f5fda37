package stdout

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// capture stands in for standard output: it keeps what was written and
// can be made to fail like a closed pipe.
type capture struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	broken bool
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return 0, errors.New("broken pipe")
	}
	return c.buf.Write(p)
}

func (c *capture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Split(strings.TrimSuffix(c.buf.String(), "\n"), "\n")
}

func (c *capture) breakUntilHealed() (heal func()) {
	c.mu.Lock()
	c.broken = true
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.broken = false
		c.mu.Unlock()
	}
}

// TestConformance runs the suite with a captured standard output. A write
// to a stuck pipe cannot be cancelled, so Hang is not offered; nor is
// Restart, as standard output has no peer to restart.
func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		out := &capture{}
		return &sinktest.Instance{Sink: newSink(textConfig(t), out), Received: out.lines, Break: out.breakUntilHealed}
	}})
}
