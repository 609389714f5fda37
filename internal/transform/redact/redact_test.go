package redact

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func newTransform(t testing.TB, edit func(*Config)) *Transform {
	t.Helper()
	tr, err := New(testutil.NewConfig(t, edit), testutil.Deps(t, "r"))
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*Transform)
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		edit           func(*Config)
	}{
		{name: "nothing", in: "GET /index.html 200 512", want: "GET /index.html 200 512"},
		{name: "email", in: "login ok user=jane.doe+x@mail.example.co.uk.", want: "login ok user=[REDACTED]."},
		{name: "not email", in: "a@b x@localhost @foo.com me@host.c0m", want: "a@b x@localhost @foo.com me@host.c0m"},
		{name: "ipv4", in: "client 192.168.1.20:443 -> 10.0.0.1", want: "client [REDACTED]:443 -> [REDACTED]"},
		{name: "not ipv4", in: "v1.2.3.4 1.2.3.4.5 256.1.1.1 1.2.3 2026.12.06", want: "v1.2.3.4 1.2.3.4.5 256.1.1.1 1.2.3 2026.12.06"},
		{name: "ipv6", in: "from [2001:db8::1]:80 and fe80::1ff:fe23:4567:890a, ::1.", want: "from [[REDACTED]]:80 and [REDACTED], [REDACTED]."},
		{name: "not ipv6", in: "at 12:30:45 mac 00:1a:2b:3c:4d:5e a::b:: ::", want: "at 12:30:45 mac 00:1a:2b:3c:4d:5e a::b:: ::"},
		{name: "card plain", in: "paid with 4111111111111111 ok", want: "paid with [REDACTED] ok"},
		{name: "card spaces", in: "cc=4111 1111 1111 1111;", want: "cc=[REDACTED];"},
		{name: "card dashes", in: `"card":"5500-0000-0000-0004"`, want: `"card":"[REDACTED]"`},
		{name: "amex", in: "amex 3782 822463 10005", want: "amex [REDACTED]"},
		{name: "card after date", in: "2026-12-06 4111111111111111", want: "2026-12-06 [REDACTED]"},
		{name: "card fails luhn", in: "id 4111111111111112", want: "id 4111111111111112"},
		{name: "too short", in: "n 411111111111", want: "n 411111111111"},
		{name: "too long", in: "n 41111111111111111111", want: "n 41111111111111111111"},
		{name: "glued to letters", in: "x4111111111111111", want: "x4111111111111111"},
		{name: "mixed separators", in: "4111 1111-1111 1111", want: "4111 1111-1111 1111"},
		{name: "bearer", in: "Authorization: Bearer abcDEF123.456_-~+/xyz=", want: "Authorization: Bearer [REDACTED]"},
		{name: "bearer lower", in: "authorization: bearer abcdefgh12345678", want: "authorization: bearer [REDACTED]"},
		{name: "jwt", in: "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nature-x", want: "token=[REDACTED]"},
		{name: "github", in: "push ghp_0123456789abcdefghijABCDEFGHIJ012345 done", want: "push [REDACTED] done"},
		{name: "aws", in: "key AKIAIOSFODNN7EXAMPLE used", want: "key [REDACTED] used"},
		{name: "not token", in: "the bearer of bad news", want: "the bearer of bad news"},
		{name: "overlap merged", in: "mail 4111111111111111@pay.example.com", want: "mail [REDACTED]"},
		{name: "per pattern replacement", in: "jane@example.com from 10.1.2.3",
			want: "<email> from <ipv4>", edit: func(c *Config) { c.Replacement = "<{pattern}>" }},
		{name: "only chosen", in: "jane@example.com from 10.1.2.3", want: "jane@example.com from [REDACTED]",
			edit: func(c *Config) { c.Patterns = []string{IPv4} }},
		{name: "custom group", in: "login password=hunter2 user=bob", want: "login password=*** user=bob",
			edit: func(c *Config) {
				c.Custom = []Custom{{Name: "password", Regex: `password=(\S+)`}}
				c.Replacement = "***"
			}},
		{name: "custom whole", in: "session SID-12345 ended", want: "session [session] ended",
			edit: func(c *Config) {
				c.Custom = []Custom{{Name: "session", Regex: `SID-\d+`}}
				c.Replacement = "[{pattern}]"
			}},
		{name: "hash", in: "a jane@example.com b jane@example.com", want: "a [email:6f4a2a8ff5a5e3c9] b [email:6f4a2a8ff5a5e3c9]",
			edit: func(c *Config) { c.Mode = ModeHash; c.HashKey = "0123456789abcdef" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTransform(t, tc.edit)
			got := tr.Redact(tc.in)
			if tc.name == "hash" {
				// The digest itself is checked by TestHashLinks; here its shape.
				testutil.Diff(t, len(tc.want), len(got))
				parts := strings.Fields(got)
				testutil.Diff(t, parts[1], parts[3])
				return
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

// TestHashLinks: equal values hash equally, different values and keys
// differently, and the value itself never shows.
func TestHashLinks(t *testing.T) {
	t.Parallel()
	hash := func(key, in string) string {
		return newTransform(t, func(c *Config) { c.Mode = ModeHash; c.HashKey = config.Secret(key); c.Replacement = "{hash}" }).Redact(in)
	}
	const k1, k2 = "key-one-0123456789", "key-two-0123456789"
	a, a2, b := hash(k1, "jane@example.com"), hash(k1, "jane@example.com"), hash(k1, "john@example.com")
	if a != a2 || a == b || len(a) != 16 {
		t.Errorf("hashes %q %q %q: want equal for equal values, different otherwise, 16 hex digits", a, a2, b)
	}
	if c := hash(k2, "jane@example.com"); c == a {
		t.Errorf("the key does not change the hash")
	}
}

func TestFieldsAndMessage(t *testing.T) {
	t.Parallel()
	tr := newTransform(t, func(c *Config) { c.Fields = []string{"message", "user", "n", "http.client", "no.such"} })
	msg := []byte("from 10.0.0.1")
	e := event.Event{Message: msg, Fields: event.Fields{
		{Key: "user", Value: event.String("jane@example.com")},
		{Key: "other", Value: event.String("jane@example.com")},
		{Key: "n", Value: event.Int(4111111111111111)},
		{Key: "http", Value: event.Object(event.Fields{{Key: "client", Value: event.String("::1")}})},
	}}
	got := testutil.RunTransform(t, tr, &event.Batch{Events: []event.Event{e}})
	out := got[0].Batch.Events[0]
	testutil.Diff(t, "from [REDACTED]", string(out.Message))
	testutil.Diff(t, "from 10.0.0.1", string(msg)) // replaced, not written into
	testutil.Diff(t, map[string]any{"user": "[REDACTED]", "other": "jane@example.com", "n": int64(4111111111111111),
		"http": map[string]any{"client": "[REDACTED]"}}, out.Fields.Map())
}

func TestCounters(t *testing.T) {
	t.Parallel()
	deps := testutil.Deps(t, "r")
	tr, err := New(testutil.NewConfig[Config](t, nil), deps)
	if err != nil {
		t.Fatal(err)
	}
	tr.(*Transform).Redact("a@example.com b@example.com 10.0.0.1")
	for name, want := range map[string]float64{Email: 2, IPv4: 1, CreditCard: 0} {
		c := deps.Metrics.Counter("redact_redactions_total", "", []string{"pattern"}, name)
		testutil.Diff(t, want, testutil.CounterValue(t, c))
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown pattern", func(c *Config) { c.Patterns = []string{"ssn"} }, `unknown pattern "ssn"`},
		{"twice", func(c *Config) { c.Patterns = []string{Email, Email} }, "appears twice"},
		{"bad regex", func(c *Config) { c.Custom = []Custom{{Name: "x", Regex: "("}} }, "custom[0]: regex:"},
		{"builtin name", func(c *Config) { c.Custom = []Custom{{Name: "email", Regex: "x"}} }, "built-in"},
		{"no regex", func(c *Config) { c.Custom = []Custom{{Name: "x"}} }, "regex: required"},
		{"mode", func(c *Config) { c.Mode = "mask" }, `mode: "mask"`},
		{"short key", func(c *Config) { c.Mode = ModeHash; c.HashKey = "short" }, "at least 8 bytes"},
		{"hash bytes", func(c *Config) { c.Mode = ModeHash; c.HashKey = "0123456789abcdef"; c.HashBytes = 64 }, "hash_bytes"},
		{"hash in replace", func(c *Config) { c.Replacement = "{hash}" }, "needs mode: hash"},
		{"no fields", func(c *Config) { c.Fields = nil }, "fields:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ConfigError(t, tc.edit, tc.want)
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	testutil.CheckRegistered[Config](t, component.KindTransform, "redact")
}
