package redact_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	_ "github.com/sluice-log/sluice/internal/sink/file"
	_ "github.com/sluice-log/sluice/internal/source/file"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/pipelinetest"
	_ "github.com/sluice-log/sluice/internal/transform/parse"
	_ "github.com/sluice-log/sluice/internal/transform/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPipeline runs file → parse (logfmt) → redact → file through the real
// pipeline, once, redacting the message and a parsed field, and checks the
// JSON lines written exactly.
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.log")
	in := `user=jane@example.com ip=10.0.0.1 msg="paid with 4111 1111 1111 1111"
user=bob ip=::1 msg="Authorization: Bearer abcdefgh12345678"
user=none msg="order 4111111111111112 is not a card"
`
	if err := os.WriteFile(src, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := pipelinetest.RunOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  kv: { type: parse, inputs: [ in ], format: logfmt }
  scrub:
    type: redact
    inputs: [ kv ]
    fields: [ message, user, msg ]
    replacement: "<{pattern}>"
sinks:
  out: { type: file, inputs: [ scrub ], path: %q, encoding: text }
`, src, dst))
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, `user=<email> ip=<ipv4> msg="paid with <credit_card>"
user=bob ip=<ipv6> msg="Authorization: Bearer <bearer_token>"
user=none msg="order 4111111111111112 is not a card"
`, string(got))
	// Once in the message, once in the msg field.
	testutil.Diff(t, 2.0, testutil.GatheredCounter(t, reg, "sluice_redact_redactions_total", "pattern", "credit_card"))
}
