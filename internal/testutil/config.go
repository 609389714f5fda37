package testutil

import (
	"strings"
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

// ConfigError makes a C as NewConfig does (defaults, then edit) and fails
// t unless Validate returns an error containing want: the table body of a
// component's config-error test.
func ConfigError[C any](t testing.TB, edit func(*C), want string) {
	t.Helper()
	c := new(C)
	if d, ok := any(c).(component.Defaulter); ok {
		d.Defaults()
	}
	edit(c)
	v, ok := any(c).(component.Validator)
	if !ok {
		t.Fatalf("%T has no Validate method", c)
	}
	if err := v.Validate(); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate() = %v, want an error containing %q", err, want)
	}
}

// CheckRegistered fails t unless the component kind/typ is registered and
// its NewConfig returns a *C.
func CheckRegistered[C any](t testing.TB, kind component.Kind, typ string) {
	t.Helper()
	spec, ok := component.Lookup(kind, typ)
	if !ok {
		t.Fatalf("%s.%s is not registered", kind, typ)
	}
	if _, ok := spec.NewConfig().(*C); !ok {
		t.Fatalf("NewConfig returns %T", spec.NewConfig())
	}
}
