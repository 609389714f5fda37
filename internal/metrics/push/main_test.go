package push

import (
	"testing"

	"go.uber.org/goleak"
)

// Every pusher's goroutines end with Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
