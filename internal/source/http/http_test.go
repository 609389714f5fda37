package httpsource

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// start runs a source on a free port and returns its base URL.
func start(t *testing.T, col *testutil.Collector, mod func(*Config)) string {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.Address = "127.0.0.1:0"
	if mod != nil {
		mod(c)
	}
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "http"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx, col.Emit) }()
	t.Cleanup(func() { cancel(); <-done })
	addr, err := s.(*Source).Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr.String()
}

func post(t *testing.T, url, ctype, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type ev struct {
	Host, Stream, Message string
	Fields                string
}

func simplify(col *testutil.Collector) []ev {
	var out []ev
	for _, e := range col.Events() {
		out = append(out, ev{Host: e.Host, Stream: e.Stream, Message: string(e.Message), Fields: string(e.Fields.AppendJSON(nil))})
	}
	return out
}

func TestFormats(t *testing.T) {
	// A Heroku logplex drain request: two octet-counted RFC 5424 frames.
	f1 := "<190>1 2026-11-22T10:00:00.123456+00:00 host app web.1 - GET / 200"
	f2 := "<190>1 2026-11-22T10:00:01+00:00 host heroku router - at=info method=GET"
	logplex := fmt.Sprintf("%d %s%d %s", len(f1), f1, len(f2), f2)
	for _, tc := range []struct {
		name, ctype, body string
		hdr               map[string]string
		want              []ev
	}{
		{"ndjson", "application/x-ndjson", `{"message":"a","n":1}` + "\n" + `{"message":"b","stream":"s2","host":"h"}` + "\n",
			nil, []ev{{Stream: "http", Message: "a", Fields: `{"n":1}`}, {Host: "h", Stream: "s2", Message: "b", Fields: `{}`}}},
		{"json array", "application/json", `[{"message":"x","level":"info"},{"message":"y"}]`,
			nil, []ev{{Stream: "http", Message: "x", Fields: `{"level":"info"}`}, {Stream: "http", Message: "y", Fields: `{}`}}},
		{"logtrain packet", "application/json",
			`{"severity":"info","facility":"user","hostname":"web-1","tag":"api","time":"2026-11-22T10:00:00Z","message":"hello"}`,
			nil, []ev{{Host: "web-1", Stream: "api", Message: "hello", Fields: `{"facility":"user","severity":"info"}`}}},
		{"logplex", "application/logplex-1", logplex, map[string]string{"Logplex-Msg-Count": "2"}, []ev{
			{Host: "host", Stream: "app", Message: "GET / 200", Fields: `{"facility":"local7","severity":"info","appname":"app","procid":"web.1","syslog_format":"rfc5424"}`},
			{Host: "host", Stream: "heroku", Message: "at=info method=GET", Fields: `{"facility":"local7","severity":"info","appname":"heroku","procid":"router","syslog_format":"rfc5424"}`}}},
		{"syslog lines", "text/plain", "<13>Nov 22 10:00:00 web1 app[12]: one\n<13>Nov 22 10:00:01 web1 app[12]: two\n", nil, []ev{
			{Host: "web1", Stream: "app", Message: "one", Fields: `{"facility":"user","severity":"notice","appname":"app","procid":"12","syslog_format":"rfc3164"}`},
			{Host: "web1", Stream: "app", Message: "two", Fields: `{"facility":"user","severity":"notice","appname":"app","procid":"12","syslog_format":"rfc3164"}`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := &testutil.Collector{}
			url := start(t, col, nil)
			code, body := post(t, url+"/", tc.ctype, tc.body, tc.hdr)
			if code != http.StatusNoContent {
				t.Fatalf("status %d: %s", code, body)
			}
			got := simplify(col)
			for i := range got {
				if got[i].Host == "" || strings.HasPrefix(got[i].Host, "127.") {
					got[i].Host = tc.want[i].Host
				}
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

func TestRefusals(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	col := &testutil.Collector{}
	url := start(t, col, func(c *Config) {
		c.MaxBodySize = 100
		c.Auth = config.Auth{Tokens: []config.Secret{"tok"}, Users: map[string]config.Secret{"u": config.Secret(hash)}}
	})
	bearer := map[string]string{"Authorization": "Bearer tok"}
	for _, tc := range []struct {
		name  string
		ctype string
		body  string
		hdr   map[string]string
		code  int
	}{
		{"no credentials", "application/json", `{"message":"x"}`, nil, 401},
		{"wrong token", "application/json", `{"message":"x"}`, map[string]string{"Authorization": "Bearer nope"}, 401},
		{"too large", "application/json", `{"message":"` + strings.Repeat("x", 200) + `"}`, bearer, 413},
		{"invalid json", "application/json", `{"message":`, bearer, 400},
		{"logplex count mismatch", "application/logplex-1", "5 <1>1 ", map[string]string{"Authorization": "Bearer tok", "Logplex-Msg-Count": "3"}, 400},
		{"basic auth ok", "application/json", `{"message":"x"}`, map[string]string{"Authorization": "Basic dTpwdw=="}, 204},
		{"token ok", "application/json", `{"message":"y"}`, bearer, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := post(t, url, tc.ctype, tc.body, tc.hdr); code != tc.code {
				t.Errorf("status %d (%s), want %d", code, body, tc.code)
			}
		})
	}
	testutil.Diff(t, []string{"x", "y"}, col.Messages())
}

// TestAnswersAfterAcknowledgement: the response waits until the events
// are acknowledged, and says 503 when they were abandoned.
func TestAnswersAfterAcknowledgement(t *testing.T) {
	for _, tc := range []struct {
		status ack.Status
		code   int
	}{{ack.Delivered, 204}, {ack.Abandoned, 503}} {
		t.Run(tc.status.String(), func(t *testing.T) {
			col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 1)}
			url := start(t, col, nil)
			got := make(chan int, 1)
			go func() { code, _ := post(t, url, "application/json", `{"message":"m"}`, nil); got <- code }()
			<-col.Notify // emitted, held
			select {
			case code := <-got:
				t.Fatalf("answered %d before the acknowledgement", code)
			case <-time.After(50 * time.Millisecond):
			}
			col.Release(tc.status)
			if code := <-got; code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
		})
	}
}

// TestShutdownLetsWaitingRequestsFinish: stopping the source does not
// answer 503 to requests whose events are in the pipeline; they get their
// acknowledgement's answer.
func TestShutdownLetsWaitingRequestsFinish(t *testing.T) {
	c := &Config{}
	c.Defaults()
	c.Address = "127.0.0.1:0"
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "http"))
	if err != nil {
		t.Fatal(err)
	}
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = s.Run(ctx, col.Emit) }()
	addr, err := s.(*Source).Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		code, _ := post(t, "http://"+addr.String(), "application/json", `{"message":"m"}`, nil)
		got <- code
	}()
	<-col.Notify // emitted, held
	cancel()
	waitRefused(t, addr.String()) // shutdown has begun
	col.Release(ack.Delivered)
	if code := <-got; code != http.StatusNoContent {
		t.Errorf("status %d after shutdown began, want 204 once acknowledged", code)
	}
	<-stopped
}

// waitRefused waits until addr refuses connections: the server shut its
// listener.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%s still accepts connections", addr)
		}
	}
}
