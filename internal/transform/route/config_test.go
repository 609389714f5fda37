package route

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Stand-ins so that a whole config can be loaded in this package's tests.
type fakeSource struct{}

func (fakeSource) Run(context.Context, component.Emit) error { return nil }

type fakeSink struct{}

func (fakeSink) Write(context.Context, *event.Batch) error { return nil }
func (fakeSink) Close(context.Context) error               { return nil }

type emptyConfig struct{}

func init() {
	component.MustRegister(component.SourceSpec("routetest_source", "test stand-in",
		func(*emptyConfig, component.Deps) (component.Source, error) { return fakeSource{}, nil }))
	component.MustRegister(component.SinkSpec("routetest_sink", "test stand-in",
		func(*emptyConfig, component.Deps) (component.Sink, error) { return fakeSink{}, nil }))
}

func TestConfigLoader(t *testing.T) {
	const head = "sources:\n  in: {type: routetest_source}\ntransforms:\n  split:\n    type: route\n    inputs: [in]\n"
	tests := []struct {
		name    string
		rest    string
		wantErr string // "" for a valid config
		wantIns []string
	}{
		{name: "named output", rest: "    routes: {errors: 'status >= 500'}\nsinks:\n  out: {type: routetest_sink, inputs: [split.errors, split._unmatched]}\n",
			wantIns: []string{"split.errors", "split._unmatched"}},
		{name: "bare name is unmatched", rest: "    routes: {errors: 'status >= 500'}\nsinks:\n  out: {type: routetest_sink, inputs: [split]}\n",
			wantIns: []string{"split._unmatched"}},
		{name: "unknown output", rest: "    routes: {errors: 'status >= 500'}\nsinks:\n  out: {type: routetest_sink, inputs: [split.warnings]}\n",
			wantErr: "split.warnings"},
		{name: "bad condition", rest: "    routes: {errors: 'status >'}\nsinks:\n  out: {type: routetest_sink, inputs: [split.errors]}\n",
			wantErr: "routes.errors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("test.yaml", []byte(head+tc.rest), func(string) (string, bool) { return "", false })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, c := range cfg.Components {
				if c.ID == "out" {
					testutil.Diff(t, tc.wantIns, c.Inputs)
					return
				}
			}
			t.Fatal("sink out not found")
		})
	}
}
