package filter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func events(statuses ...event.Value) []event.Event {
	out := make([]event.Event, len(statuses))
	for i, s := range statuses {
		out[i] = event.Event{Message: []byte(fmt.Sprintf("line %d", i))}
		if s.Kind() != event.KindNull {
			out[i].Fields = event.Fields{{Key: "status", Value: s}}
		}
	}
	return out
}

func messages(b *event.Batch) []string {
	var out []string
	for _, e := range b.Events {
		out = append(out, string(e.Message))
	}
	return out
}

func TestProcess(t *testing.T) {
	tests := []struct {
		name       string
		condition  string
		events     []event.Event
		want       []string // messages passed on; nil: nothing emitted
		wantErrors float64
	}{
		{name: "keeps matching", condition: "status >= 500",
			events: events(event.Int(200), event.Int(503), event.String("500"), event.Float(404)),
			want:   []string{"line 1", "line 2"}},
		{name: "keeps all", condition: "status >= 0",
			events: events(event.Int(1), event.Int(2)), want: []string{"line 0", "line 1"}},
		{name: "drops all", condition: "status >= 500",
			events: events(event.Int(1), event.Int(2))},
		{name: "errors drop and count", condition: "status >= 500",
			events: events(event.Null(), event.Int(501), event.String("n/a"), event.Int(502)),
			want:   []string{"line 1", "line 3"}, wantErrors: 2},
		{name: "message condition", condition: `message endsWith "2"`,
			events: events(event.Int(1), event.Int(2), event.Int(3)), want: []string{"line 2"}},
		{name: "empty batch", condition: "true", events: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deps := testutil.Deps(t, "f")
			tr, err := New(testutil.Validated(t, &Config{Condition: tc.condition}), deps)
			if err != nil {
				t.Fatal(err)
			}
			in := &event.Batch{Events: tc.events}
			got := testutil.RunTransform(t, tr, in)
			switch {
			case tc.want == nil && len(got) != 0:
				t.Fatalf("emitted %d batches, want none", len(got))
			case tc.want != nil && len(got) != 1:
				t.Fatalf("emitted %d batches, want 1", len(got))
			case tc.want != nil:
				if got[0].Batch != in || got[0].Output != "" {
					t.Errorf("emitted a new batch or to output %q; want the input batch on the default output", got[0].Output)
				}
				testutil.Diff(t, tc.want, messages(got[0].Batch))
			}
			if n := testutil.CounterValue(t, deps.Metrics.Errors); n != tc.wantErrors {
				t.Errorf("errors counted = %v, want %v", n, tc.wantErrors)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, condition, wantText string
	}{
		{name: "missing", condition: "", wantText: "required"},
		{name: "syntax", condition: "status >>> 5", wantText: "(1:"},
		{name: "not boolean", condition: `"abc"`, wantText: "not a boolean"},
		{name: "unknown function", condition: "foo(x)", wantText: "unknown function foo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Condition: tc.condition}
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantText)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := component.Lookup(component.KindTransform, "filter")
	if !ok {
		t.Fatal("transform.filter is not registered")
	}
	if _, ok := spec.NewConfig().(*Config); !ok {
		t.Fatalf("NewConfig returns %T", spec.NewConfig())
	}
}

func BenchmarkProcess(b *testing.B) {
	tr, err := New(testutil.Validated(b, &Config{Condition: `level == "error" && status >= 500`}), testutil.Deps(b, "f"))
	if err != nil {
		b.Fatal(err)
	}
	src := make([]event.Event, 1000)
	for i := range src {
		level := "info"
		if i%4 == 0 {
			level = "error"
		}
		src[i] = event.Event{Message: []byte("GET /x"), Fields: event.Fields{
			{Key: "level", Value: event.String(level)}, {Key: "status", Value: event.Int(int64(200 + i%400))},
			{Key: "path", Value: event.String("/api/x")}}}
	}
	testutil.BenchTransform(b, tr, src)
}

// TestDocExamples checks that the conditions in docs/components/transform-filter.md
// and transform-route.md are valid.
func TestDocExamples(t *testing.T) {
	for _, c := range []string{
		`status >= 500 && path startsWith "/api"`,
		`lower(level) in ["error", "fatal", "panic"]`,
		`http.duration_ms > 1000 && !cidr(client, "10.0.0.0/8")`,
		`message matches "(?i)time(d)? ?out"`,
		`status != nil && status >= 500`,
		`status >= 400 && status < 500`,
		`stream == "nginx.service"`,
		`stream startsWith "postgresql"`,
		`stream == "kernel" || facility == "kern"`,
	} {
		if err := (&Config{Condition: c}).Validate(); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}
