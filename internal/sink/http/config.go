package http

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Config configures the http sink.
type Config struct {
	// URL to send each batch to, http:// or https://. Credentials in the
	// URL (https://user:pass@host/) are used for basic auth when auth is
	// not set, and are never sent in the URL itself. Required.
	URL config.URL `yaml:"url"`
	// Method of the request. Default POST.
	Method string `yaml:"method"`
	// Encoding of the body: ndjson (default; one JSON object per line,
	// Content-Type application/x-ndjson) or json_array (one JSON array of
	// the events, Content-Type application/json). Events are encoded as
	// in the json encoding (docs/encodings.md).
	Encoding string `yaml:"encoding"`
	// Headers are added to every request; they may override Content-Type.
	Headers map[string]string `yaml:"headers"`
	// Auth sets the Authorization header: basic (user and password) or
	// bearer (token). Default none.
	Auth Auth `yaml:"auth"`
	// TLS configures https connections. Default: the system roots.
	TLS config.ClientTLS `yaml:"tls"`
	// Compression of the body: none (default) or gzip (Content-Encoding: gzip).
	Compression string `yaml:"compression"`
	// Timeout of one request, from connecting to reading the response.
	// Default 30s.
	Timeout config.Duration `yaml:"timeout"`

	// parsed is what Validate derived, for the constructor.
	parsed *parsed
}

// parsed holds the values Validate derives from a Config: the URL without
// its credentials and the Authorization header. TLS files are read by the
// constructor, so that a config can be validated on another machine.
type parsed struct {
	url     string
	auth    string   // Authorization header value; secret
	secrets []string // scrubbed from response bodies quoted in errors
}

// Auth holds credentials for the Authorization header. Set either user
// (with password) for basic auth, or token for bearer auth.
type Auth struct {
	// User name for basic auth.
	User string `yaml:"user"`
	// Password for basic auth. Never printed or logged.
	Password config.Secret `yaml:"password"`
	// Token for bearer auth (Authorization: Bearer <token>). Never printed
	// or logged.
	Token config.Secret `yaml:"token"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Method = "POST"
	c.Encoding = "ndjson"
	c.Compression = "none"
	c.Timeout = config.Duration(30 * time.Second)
}

// Validate checks the URL, enumerations, auth and TLS settings and keeps
// what it parsed for the constructor.
func (c *Config) Validate() error {
	u, err := parseURL(string(c.URL))
	if err != nil {
		return err
	}
	if c.Method == "" || strings.ContainsAny(c.Method, " \t\r\n:/") {
		return fmt.Errorf("invalid method %q", c.Method)
	}
	if c.Encoding != "ndjson" && c.Encoding != "json_array" {
		return fmt.Errorf("unknown encoding %q (use ndjson or json_array)", c.Encoding)
	}
	if c.Compression != "none" && c.Compression != "gzip" {
		return fmt.Errorf("unknown compression %q (use none or gzip)", c.Compression)
	}
	if c.Timeout <= 0 {
		return errors.New("timeout must be positive")
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return fmt.Errorf("invalid header name %q", k)
		}
	}
	if err := c.Auth.validate(); err != nil {
		return err
	}
	if err := c.TLS.Validate(); err != nil {
		return err
	}
	p := &parsed{}
	auth := c.Auth
	if u.User != nil {
		if auth == (Auth{}) {
			auth.User = u.User.Username()
			pw, _ := u.User.Password()
			auth.Password = config.Secret(pw)
		}
		u.User = nil
	}
	p.url = u.String()
	p.setAuth(auth)
	c.parsed = p
	return nil
}

func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the input, which may hold a password.
		return nil, errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url scheme %q is not supported (use http or https)", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("url has no host")
	}
	return u, nil
}

func (p *parsed) setAuth(a Auth) {
	switch {
	case a.Token != "":
		p.auth = "Bearer " + a.Token.Reveal()
		p.secrets = []string{a.Token.Reveal()}
	case a.User != "":
		cred := base64.StdEncoding.EncodeToString([]byte(a.User + ":" + a.Password.Reveal()))
		p.auth = "Basic " + cred
		p.secrets = []string{cred, a.Password.Reveal()}
	}
}

func (a Auth) validate() error {
	switch {
	case a.Token != "" && (a.User != "" || a.Password != ""):
		return errors.New("auth: set either token (bearer) or user and password (basic), not both")
	case a.Password != "" && a.User == "":
		return errors.New("auth: password needs user")
	}
	return nil
}
