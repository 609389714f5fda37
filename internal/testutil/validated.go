package testutil

import (
	"testing"

	"github.com/sluice-log/sluice/internal/component"
)

// Validated calls c.Validate, as the config loader does before any
// constructor sees a config, and fails t if it returns an error. It returns
// c, so a test can build a component from a config it wrote by hand:
// New(testutil.Validated(t, cfg), deps). Validate may keep parsed values in
// unexported fields that the constructor relies on.
func Validated[C any, P interface {
	*C
	component.Validator
}](t testing.TB, c P) P {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatalf("invalid test config %T: %v", c, err)
	}
	return c
}
