package route

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// mkEvents makes events "0".."n-1" from (level, status) pairs; an empty
// level leaves the field out.
func mkEvents(specs ...string) []event.Event {
	out := make([]event.Event, len(specs))
	for i, s := range specs {
		level, status, _ := strings.Cut(s, "/")
		out[i].Message = []byte(fmt.Sprint(i))
		if level != "" {
			out[i].Fields = append(out[i].Fields, event.Field{Key: "level", Value: event.String(level)})
		}
		if status != "" {
			out[i].Fields = append(out[i].Fields, event.Field{Key: "status", Value: event.String(status)})
		}
	}
	return out
}

// summary renders emitted batches as "output:msg,msg".
func summary(got []testutil.Emitted) []string {
	var out []string
	for _, g := range got {
		var msgs []string
		for _, e := range g.Batch.Events {
			msgs = append(msgs, string(e.Message))
		}
		out = append(out, g.Output+":"+strings.Join(msgs, ","))
	}
	return out
}

const twoRoutes = "routes:\n  errors: 'status >= 500'\n  warn: 'level in [\"warn\", \"error\"]'\n"

func TestProcess(t *testing.T) {
	tests := []struct {
		name       string
		config     string
		events     []event.Event
		want       []string
		wantErrors float64
	}{
		{name: "split", config: twoRoutes,
			events: mkEvents("info/200", "error/503", "warn/404", "info/500"),
			want:   []string{"errors:1,3", "warn:1,2", "_unmatched:0"}},
		{name: "all to one route", config: twoRoutes,
			events: mkEvents("x/500", "y/501"), want: []string{"errors:0,1"}},
		{name: "none matched", config: twoRoutes,
			events: mkEvents("info/200", "debug/201"), want: []string{"_unmatched:0,1"}},
		{name: "errors count as false", config: twoRoutes,
			events: mkEvents("info/", "warn/n/a", "info/600"),
			want:   []string{"errors:2", "warn:1", "_unmatched:0"}, wantErrors: 2},
		{name: "order follows config", config: "routes: {b: 'true', a: 'true'}",
			events: mkEvents("x/1"), want: []string{"b:0", "a:0"}},
		{name: "empty batch", config: twoRoutes, events: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deps := testutil.Deps(t, "r")
			tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, tc.config)), deps)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := testutil.RunTransform(t, tr, &event.Batch{Events: tc.events})
			testutil.Diff(t, tc.want, summary(got))
			if n := testutil.CounterValue(t, deps.Metrics.Errors); n != tc.wantErrors {
				t.Errorf("errors counted = %v, want %v", n, tc.wantErrors)
			}
		})
	}
}

func TestOutputsShareNothing(t *testing.T) {
	tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, "routes: {a: 'true', b: 'true', c: 'status == 1'}")), testutil.Deps(t, "r"))
	if err != nil {
		t.Fatal(err)
	}
	got := testutil.RunTransform(t, tr, &event.Batch{Events: mkEvents("x/1", "y/2")})
	testutil.Diff(t, []string{"a:0,1", "b:0,1", "c:0"}, summary(got))
	// Change event 0 in every output but the last; the last must not see it.
	for _, g := range got[:2] {
		g.Batch.Events[0].Fields[0].Value = event.String("changed by " + g.Output)
	}
	v, _ := got[2].Batch.Events[0].Fields.Get("level")
	testutil.Diff(t, "x", v.Str())
	a, _ := got[0].Batch.Events[0].Fields.Get("level")
	testutil.Diff(t, "changed by a", a.Str())
}

func TestOutputError(t *testing.T) {
	tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, twoRoutes)), testutil.Deps(t, "r"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := testutil.RunTransformFailing(t, tr, &event.Batch{Events: mkEvents("info/200", "error/503")}, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Process error = %v, want context.Canceled", err)
	}
	testutil.Diff(t, []string{"errors:1"}, summary(got))
}

func TestOutputs(t *testing.T) {
	spec, ok := component.Lookup(component.KindTransform, "route")
	if !ok {
		t.Fatal("transform.route is not registered")
	}
	c := spec.NewConfig()
	if err := yaml.Load([]byte(twoRoutes), c, yaml.WithKnownFields()); err != nil {
		t.Fatal(err)
	}
	o, ok := c.(component.Outputter)
	if !ok {
		t.Fatalf("%T does not implement component.Outputter", c)
	}
	testutil.Diff(t, []string{"errors", "warn", "_unmatched"}, o.Outputs())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		config   *Config
		wantText string
	}{
		{name: "no routes", config: &Config{}, wantText: "at least one route"},
		{name: "dotted name", config: &Config{Routes: Routes{{"a.b", "true"}}}, wantText: "not a valid output name"},
		{name: "reserved name", config: &Config{Routes: Routes{{Unmatched, "true"}}}, wantText: "not a valid output name"},
		{name: "glob name", config: &Config{Routes: Routes{{"a*", "true"}}}, wantText: "not a valid output name"},
		{name: "duplicate", config: &Config{Routes: Routes{{"a", "true"}, {"a", "false"}}}, wantText: "twice"},
		{name: "empty condition", config: &Config{Routes: Routes{{"a", ""}}}, wantText: "condition required"},
		{name: "bad condition", config: &Config{Routes: Routes{{"a", "status >"}}}, wantText: "routes.a"},
		{name: "non-boolean condition", config: &Config{Routes: Routes{{"a", "1 + 1"}}}, wantText: "not a boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.config.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantText)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, src := range []string{"routes: [a]", "routes: {a: [x]}"} {
		t.Run(src, func(t *testing.T) {
			var c Config
			if err := yaml.Load([]byte(src), &c, yaml.WithKnownFields()); err == nil {
				t.Fatalf("decoding %q: no error", src)
			}
		})
	}
}

func BenchmarkProcess(b *testing.B) {
	tr, err := New(testutil.Validated(b, testutil.LoadYAML[Config](b, twoRoutes)), testutil.Deps(b, "r"))
	if err != nil {
		b.Fatal(err)
	}
	levels := []string{"info", "warn", "error", "debug"}
	src := make([]event.Event, 1000)
	for i := range src {
		src[i] = event.Event{Message: []byte("x"), Fields: event.Fields{
			{Key: "level", Value: event.String(levels[i%4])}, {Key: "status", Value: event.Int(int64(200 + i%400))}}}
	}
	batch := &event.Batch{Events: make([]event.Event, 0, len(src))}
	out := func(context.Context, string, *event.Batch) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		batch.Events = append(batch.Events[:0], src...)
		if err := tr.Process(context.Background(), batch, out); err != nil {
			b.Fatal(err)
		}
	}
}
