package wssink

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/relay"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		err  string
	}{
		{"ws", func(*Config) {}, ""},
		{"wss with options", func(c *Config) { c.URL = "wss://u:p@relay.example:9443/in?ca=/etc/ca.pem" }, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url is required"},
		{"http url", func(c *Config) { c.URL = "https://relay.example/" }, "ws or wss"},
		{"unknown scheme", func(c *Config) { c.URL = "ftp://relay.example/" }, "unknown drain scheme"},
		{"tls on ws", func(c *Config) { c.TLS.CA = "ca.pem" }, "need a wss:// url"},
		{"password without user", func(c *Config) { c.Password = "p" }, "password needs user"},
		{"user twice", func(c *Config) { c.URL, c.User = "ws://a:b@h/", "c" }, "not both"},
		{"cert without key", func(c *Config) { c.URL, c.TLS.Cert = "wss://h/", "c.pem" }, "cert and key"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{}
			c.Defaults()
			c.URL = "ws://127.0.0.1:9582/relay"
			tc.mod(c)
			err := c.Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	c := testutil.NewConfig(t, func(c *Config) {
		c.URL = "wss://relay:url-pass@relay.example/in"
		c.Token = "tok-secret"
	})
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.URL.String()} {
		for _, secret := range []string{"url-pass", "tok-secret"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q reveals %s", out, secret)
			}
		}
	}
	s, err := New(c, testutil.Deps(t, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if u := s.(*Sink).url; strings.Contains(u, "url-pass") || strings.Contains(u, "relay@") {
		t.Errorf("dial url carries credentials: %s", u)
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	for _, tc := range []struct {
		name            string
		user, pass, tok string
		auth, relayAuth string
	}{
		{"token", "", "", "t", "Bearer t", ""},
		{"basic", "u", "p", "", basic, ""},
		{"basic for a proxy and a token", "u", "p", "t", basic, "Bearer t"},
		{"none", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := header(tc.user, tc.pass, tc.tok, "id")
			testutil.Diff(t, []string{tc.auth, tc.relayAuth, "id"},
				[]string{h.Get("Authorization"), h.Get(relay.HeaderAuthorization), h.Get(relay.HeaderSender)})
		})
	}
}

func TestMaxMessage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"":         relay.DefaultMaxMessageSize,
		"junk":     relay.DefaultMaxMessageSize,
		"100":      relay.DefaultMaxMessageSize,
		"65536":    65536,
		"16777216": 16 << 20,
	} {
		if got := maxMessage(in); got != want {
			t.Errorf("maxMessage(%q) = %d, want %d", in, got, want)
		}
	}
}
