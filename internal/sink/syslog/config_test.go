package syslog

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestTarget(t *testing.T) {
	t.Parallel()
	type want struct {
		Mode, Addr, CA string
		Insecure       bool
		User, Password string
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want want
	}{
		{"mode and address", func(c *Config) { c.Mode, c.Address = "udp", "10.0.0.1:514" },
			want{Mode: "udp", Addr: "10.0.0.1:514"}},
		{"mode defaults to tcp", func(c *Config) { c.Address = "logs:601" },
			want{Mode: "tcp", Addr: "logs:601"}},
		{"syslog url is udp", func(c *Config) { c.URL = "syslog://logs.example.com" },
			want{Mode: "udp", Addr: "logs.example.com:514"}},
		{"tcp url", func(c *Config) { c.URL = "syslog+tcp://127.0.0.1:6000" },
			want{Mode: "tcp", Addr: "127.0.0.1:6000"}},
		{"tls url with ca", func(c *Config) { c.URL = "syslog+tls://logs:6514?ca=/etc/ca.pem" },
			want{Mode: "tls", Addr: "logs:6514", CA: "/etc/ca.pem"}},
		{"explicit tls.ca wins over the url", func(c *Config) {
			c.URL, c.TLS.CA = "syslog+tls://logs?ca=/url.pem", "/explicit.pem"
		}, want{Mode: "tls", Addr: "logs:6514", CA: "/explicit.pem"}},
		{"insecure url", func(c *Config) { c.URL = "syslog+tls://logs?insecure=true" },
			want{Mode: "tls", Addr: "logs:6514", Insecure: true}},
		{"https url keeps path, query and credentials", func(c *Config) {
			c.URL = "syslog+https://u:p%40ss@drain.example.com/logs?app=x"
		}, want{Mode: "https", Addr: "https://drain.example.com:443/logs?app=x", User: "u", Password: "p@ss"}},
		{"http url", func(c *Config) { c.URL = "syslog+http://127.0.0.1:8080/" },
			want{Mode: "http", Addr: "http://127.0.0.1:8080/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			tc.edit(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tg, err := c.target()
			if err != nil {
				t.Fatal(err)
			}
			got := want{tg.mode, tg.addr, tg.tls.CA, tg.tls.InsecureSkipVerify, tg.user, tg.password.Reveal()}
			testutil.Diff(t, tc.want, got)
		})
	}
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"nothing set", func(*Config) {}, "address is required"},
		{"url and address", func(c *Config) { c.URL, c.Address = "syslog://a", "a:1" }, "either url, or mode and address"},
		{"not a syslog drain", func(c *Config) { c.URL = "https://example.com" }, "not a syslog drain"},
		{"unknown scheme", func(c *Config) { c.URL = "gopher://x" }, "unknown drain scheme"},
		{"bad mode", func(c *Config) { c.Mode, c.Address = "sctp", "a:1" }, `mode "sctp"`},
		{"http mode without url", func(c *Config) { c.Mode, c.Address = "https", "a:1" }, "use url"},
		{"address without port", func(c *Config) { c.Address = "logs" }, "want host:port"},
		{"tls options on tcp", func(c *Config) { c.Address, c.TLS.CA = "a:1", "/ca.pem" }, "tls is set but the transport is tcp"},
		{"ca in a udp url", func(c *Config) { c.URL = "syslog+udp://a?ca=/x" }, "need a TLS scheme"},
		{"unknown url option", func(c *Config) { c.URL = "syslog+tcp://a:1?framing=lf" }, "unknown option framing"},
		{"credentials on tcp", func(c *Config) { c.URL = "syslog+tcp://u:secret@a:1" }, "only sent over syslog+http"},
		{"cert without key", func(c *Config) { c.Mode, c.Address, c.TLS.Cert = "tls", "a:1", "/c.pem" }, "cert and key"},
		{"bad framing", func(c *Config) { c.Address, c.Framing = "a:1", "nul" }, `framing "nul"`},
		{"tiny max size", func(c *Config) { c.Address, c.MaxMessageSize = "a:1", 100 }, "max_message_size"},
		{"bad facility", func(c *Config) { c.Address, c.Facility = "a:1", "local9" }, `facility "local9"`},
		{"bad severity", func(c *Config) { c.Address, c.Severity = "a:1", "loud" }, `severity "loud"`},
		{"zero timeout", func(c *Config) { c.Address, c.Timeout = "a:1", 0 }, "timeout must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			tc.edit(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestURLRedacted(t *testing.T) {
	t.Parallel()
	u := URL("syslog+https://drain:hunter2@example.com/x")
	y, _ := u.MarshalYAML()
	txt, _ := u.MarshalText()
	for _, s := range []string{u.String(), fmt.Sprintf("%v", u), fmt.Sprintf("%#v", u), y.(string), string(txt),
		fmt.Sprintf("%v", Config{URL: u})} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password shown in %q", s)
		}
	}
	testutil.Diff(t, "syslog+https://drain:<redacted>@example.com/x", u.String())
}
