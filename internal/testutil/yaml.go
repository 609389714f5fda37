package testutil

import (
	"testing"

	"go.yaml.in/yaml/v4"
)

// LoadYAML decodes src into a new T strictly, as the config loader does
// (unknown keys are errors), and fails t if it does not decode.
func LoadYAML[T any](t testing.TB, src string) *T {
	t.Helper()
	v := new(T)
	if err := yaml.Load([]byte(src), v, yaml.WithKnownFields()); err != nil {
		t.Fatalf("decoding YAML: %v", err)
	}
	return v
}
