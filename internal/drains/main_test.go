package drains

import (
	"testing"

	"go.uber.org/goleak"

	// The sinks drain URLs map to in these tests.
	_ "github.com/sluice-log/sluice/internal/sink/http"
	_ "github.com/sluice-log/sluice/internal/sink/syslog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
