package expr

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// TestDocExamples evaluates the examples of docs/expressions.md on the
// sample event described there.
func TestDocExamples(t *testing.T) {
	e := &event.Event{
		Timestamp: time.Now().Add(-10 * time.Minute),
		Host:      "web-1",
		Stream:    "/var/log/nginx/access.log",
		Message:   []byte(`10.1.2.3 - - "GET /api/users HTTP/1.1" 503 512 "curl/8.5"`),
		Fields: event.Fields{
			{Key: "client", Value: event.String("10.1.2.3")},
			{Key: "method", Value: event.String("GET")},
			{Key: "path", Value: event.String("/api/users")},
			{Key: "status", Value: event.String("503")},
			{Key: "bytes", Value: event.Int(512)},
			{Key: "user-agent", Value: event.String("curl/8.5")},
			{Key: "level", Value: event.String("ERROR")},
			{Key: "http", Value: event.Object(event.Fields{{Key: "duration_ms", Value: event.Float(1250.5)}})},
			{Key: "tags", Value: event.Array([]event.Value{event.String("edge"), event.String("eu")})},
		},
	}
	tests := []struct {
		src  string
		want bool
	}{
		{`status >= 500`, true},
		{`status == 503`, true},
		{`status == "503"`, true},
		{`status in 500..599`, true},
		{`status not in [200, 204]`, true},
		{`method == "GET" && path startsWith "/api"`, true},
		{`lower(level) in ["error", "fatal"]`, true},
		{`message matches "HTTP/1\\.[01]\" 5\\d\\d"`, true},
		{`message contains "curl"`, true},
		{`http.duration_ms > 1000`, true},
		{`$env["user-agent"] startsWith "curl/"`, true},
		{`"eu" in tags`, true},
		{`len(tags) == 2`, true},
		{`cidr(client, "10.0.0.0/8")`, true},
		{`(num(bytes) ?? 0) > 100`, true},
		{`status / 100 >= 5`, true},
		{`int(status) % 100 == 3`, true},
		{`trace_id == nil`, true},
		{`trace_id != nil && trace_id != ""`, false},
		{`(user ?? "anonymous") == "anonymous"`, true},
		{`now() - timestamp > duration("5m")`, true},
		{`timestamp.Hour() >= 0`, true},
		{`host == "web-1" or stream endsWith "error.log"`, true},
		{`not (level == "DEBUG")`, true},
		{`let s = int(status); s >= 500 && s < 600`, true},
		{`any(tags, # startsWith "e")`, true},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			p, err := CompileCondition(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Bool(e)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
