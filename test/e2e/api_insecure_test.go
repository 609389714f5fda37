package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIRefusesInsecureListen: without auth, sluice refuses to serve the
// api on a non-loopback address (exit 1, with the reason and a hint),
// unless api.allow_insecure is set. It stops before binding anything.
func TestAPIRefusesInsecureListen(t *testing.T) {
	dir := t.TempDir()
	base := fmt.Sprintf("data_dir: %s\nsources:\n  in: { type: stdin }\nsinks:\n  out: { type: blackhole, inputs: [in] }\n", dir)
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, base+"api: { listen: \"0.0.0.0:0\" }\n")
	code, out := exited(t, cfg)
	if code != 1 || !strings.Contains(out, "refusing to serve the api on 0.0.0.0:0 without auth") ||
		!strings.Contains(out, "api.allow_insecure: true") {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 saying why, with the hint", code, out)
	}
	// Accepted with allow_insecure; checked with validate, so that no
	// test listens beyond loopback.
	writeFile(t, cfg, base+"api: { listen: \"0.0.0.0:0\", allow_insecure: true }\n")
	if out, err := exec.Command(sluiceBin(t), "validate", "-c", cfg).CombinedOutput(); err != nil {
		t.Errorf("validate with allow_insecure: %v\n%s", err, out)
	}
}
