package rtail

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// rtailClient finds the real rtail npm client: $SLUICE_RTAIL, or the copy
// scripts/install-test-deps.sh installs.
func rtailClient(t *testing.T) string {
	if p := os.Getenv("SLUICE_RTAIL"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "sluice-peers", "rtail", "node_modules", ".bin", "rtail")
	if _, err := os.Stat(p); err != nil {
		testutil.RequireCI(t, "the rtail npm client is not installed (run scripts/install-test-deps.sh)")
	}
	return p
}

// TestRealRtailClient pipes lines, plain and JSON, through the real rtail
// client into the source.
func TestRealRtailClient(t *testing.T) {
	testutil.SkipIfShort(t)
	client := rtailClient(t)
	s := newTestSource(t, "127.0.0.1:0")
	col := &testutil.Collector{Notify: make(chan struct{}, 128)}
	testutil.StartSource(t, s, col.Emit)
	addr, err := s.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	port := addr.String()
	port = port[strings.LastIndex(port, ":")+1:]
	var input strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&input, "plain line %d\n", i)
	}
	input.WriteString(`{"level":"error","code":500}` + "\n")
	cmd := exec.Command(client, "--id", "api.example", "--host", "127.0.0.1", "--port", port, "--mute", "--no-parse-date")
	cmd.Stdin = strings.NewReader(input.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rtail: %v\n%s", err, out)
	}
	waitMessages(t, col, 51)
	msgs := col.Messages()
	if len(msgs) != 51 {
		t.Fatalf("got %d events, want 51 (UDP on loopback should not lose 51 packets)", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m] = true
	}
	for i := 0; i < 50; i++ {
		if !seen[fmt.Sprintf("plain line %d", i)] {
			t.Errorf("missing plain line %d", i)
		}
	}
	if !seen[`{"level":"error","code":500}`] {
		t.Errorf("JSON line not received as compact JSON: %q", msgs)
	}
	for _, e := range col.Events() {
		if e.Stream != "api.example" {
			t.Errorf("stream %q, want the rtail --id", e.Stream)
		}
		if time.Since(e.Timestamp) > time.Minute {
			t.Errorf("timestamp %v is not the client's", e.Timestamp)
		}
	}
}
