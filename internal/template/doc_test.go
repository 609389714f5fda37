package template

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestDocExamples renders the examples of docs/expressions.md on the sample
// event described there.
func TestDocExamples(t *testing.T) {
	e := &event.Event{
		Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
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
	tests := []struct{ src, want string }{
		{`{{ .status }}`, "503"},
		{`{{ .http.duration_ms }}`, "1250.5"},
		{`{{ .host }}/{{ .stream }}`, "web-1//var/log/nginx/access.log"},
		{`{{ .timestamp }}`, "2024-05-06T07:08:09Z"},
		{`{{ .tags }}, {{ .http }}`, `["edge","eu"], {"duration_ms":1250.5}`},
		{`[{{ .missing }}]`, "[]"},
		{`{{ get . "user-agent" }}`, "curl/8.5"},
		{`{{ .timestamp.Unix }}`, "1714979289"},
		{`{{ .path | split "/" | last | upper }}`, "USERS"},
		{`{{ .level | lower }}`, "error"},
		{`{{ trim "  x " }}`, "x"},
		{`{{ .path | trimPrefix "/api" }}`, "/users"},
		{`{{ replace "/" "_" .path }}`, "_api_users"},
		{`{{ regexReplace "^/(\\w+)/.*" "$1" .path }}`, "api"},
		{`{{ regexFind "HTTP/([0-9.]+)" .message }}`, "1.1"},
		{`{{ .client | ipPrefix 24 64 }}`, "10.1.2.0/24"},
		{`{{ domain "Alice@Example.ORG" }}`, "example.org"},
		{`{{ split "/" .path }}`, `["","api","users"]`},
		{`{{ join "," .tags }}`, "edge,eu"},
		{`{{ index .tags -1 }}, {{ index .http "duration_ms" }}`, "eu, 1250.5"},
		{`{{ default "anonymous" .user }}`, "anonymous"},
		{`{{ strftime "%Y-%m-%d" .timestamp }}`, "2024-05-06"},
		{`{{ strftime "%j %b %a %Z %z" .timestamp }}`, "127 May Mon UTC +0000"},
		{`{{ toJson .level }}`, `"ERROR"`},
		{`{{ printf "%05d" .bytes }}`, "00512"},
		{`{{ if ge .bytes 500 }}big{{ end }}`, "big"},
		{`{{ with .http }}{{ .duration_ms }} {{ $.host }}{{ end }}`, "1250.5 web-1"},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			got, err := MustParse(tc.src).Render(nil, e)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, string(got))
		})
	}
	if _, err := MustParse(`{{ eq .status 503 }}`).Render(nil, e); err == nil {
		t.Error("eq of a string and a number rendered without error; the docs say it fails")
	}
}
