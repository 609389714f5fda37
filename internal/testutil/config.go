package testutil

import (
	"testing"

	"github.com/sluice-log/sluice/internal/component"
)

// NewConfig returns a component config of type C the way the config loader
// makes one: defaults set (when C has Defaults), then edit applied, then
// Validate called (when C has it), which also keeps the parsed values that
// constructors use. A validation error fails t.
func NewConfig[C any](t testing.TB, edit func(*C)) *C {
	t.Helper()
	c := new(C)
	if d, ok := any(c).(component.Defaulter); ok {
		d.Defaults()
	}
	if edit != nil {
		edit(c)
	}
	return Validated(t, c)
}

// Validated calls c.Validate, if c has it, and fails t on an error. It
// returns c, for building a component from a config filled in by hand.
func Validated[C any](t testing.TB, c *C) *C {
	t.Helper()
	if v, ok := any(c).(component.Validator); ok {
		if err := v.Validate(); err != nil {
			t.Fatalf("validating %T: %v", c, err)
		}
	}
	return c
}
