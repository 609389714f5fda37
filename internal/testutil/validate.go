package testutil

import (
	"testing"

	"github.com/sluice-log/sluice/internal/component"
)

// Validated runs c's Validate, as the config loader does before any
// constructor sees a config, and fails t if it reports an error. It returns
// c, so a test can write New(testutil.Validated(t, &Config{...}), deps).
func Validated[C any](t testing.TB, c *C) *C {
	t.Helper()
	if v, ok := any(c).(component.Validator); ok {
		if err := v.Validate(); err != nil {
			t.Fatalf("validating %T: %v", c, err)
		}
	}
	return c
}
