package http

import (
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

// Validate checks the URL, enumerations, auth and TLS settings.
func (c *Config) Validate() error {
	if err := validateURL(string(c.URL)); err != nil {
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
	return c.TLS.Validate()
}

func validateURL(raw string) error {
	if raw == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the input, which may hold a password.
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url scheme %q is not supported (use http or https)", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url has no host")
	}
	return nil
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
