package httpsource

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzDecode feeds arbitrary bodies under every content type: no panic,
// and an accepted body never yields an event without a stream.
func FuzzDecode(f *testing.F) {
	f.Add("application/logplex-1", "10 <13>1 - - -")
	f.Add("application/json", `[{"message":1,"time":1e300},{"tag":null}]`)
	f.Add("application/x-ndjson", "{}\n{\"timestamp\":\"x\"}\n")
	f.Add("text/plain", "<999>bad\n\x00\xff\n")
	c := &Config{}
	c.Defaults()
	s, err := New(testutil.Validated(f, c), testutil.Deps(f, "fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	src := s.(*Source)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		events, _, err := src.decode(r)
		if err != nil {
			return
		}
		for _, e := range events {
			if e.Stream == "" && e.Host == "" {
				t.Fatalf("event without stream or host from %q", body)
			}
		}
	})
}
