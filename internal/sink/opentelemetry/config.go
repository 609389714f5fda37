package opentelemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Config configures the opentelemetry sink.
type Config struct {
	// URL of the OTLP/HTTP logs endpoint, http:// or https://. A URL
	// without a path gets /v1/logs, so http://collector:4318 works. With
	// protocol grpc only its host:port and scheme count
	// (http://collector:4317). Required.
	URL config.URL `yaml:"url"`
	// Protocol is http (OTLP/HTTP protobuf, default) or grpc (OTLP/gRPC
	// to the URL's host:port; https means TLS).
	Protocol string `yaml:"protocol"`
	// Headers are added to every request (gRPC: as metadata).
	Headers map[string]string `yaml:"headers"`
	// Token sets "Authorization: Bearer <token>". Never printed or logged.
	Token config.Secret `yaml:"token"`
	// TLS configures https connections. Default: the system roots.
	TLS config.ClientTLS `yaml:"tls"`
	// Compression of the body: gzip (default) or none.
	Compression string `yaml:"compression"`
	// Timeout of one request, from connecting to reading the response.
	// Default 30s.
	Timeout config.Duration `yaml:"timeout"`

	url string // with /v1/logs, set by Validate
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Protocol = "http"
	c.Compression = "gzip"
	c.Timeout = config.Duration(30 * time.Second)
}

// Validate checks the settings and completes the URL.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(string(c.URL))
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url scheme %q is not supported (use http or https)", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("url has no host")
	}
	if u.User != nil {
		return errors.New("url must not hold credentials: use token or headers")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/logs"
	}
	if c.Protocol != "http" && c.Protocol != "grpc" {
		return fmt.Errorf("unknown protocol %q (use http or grpc)", c.Protocol)
	}
	if c.Compression != "none" && c.Compression != "gzip" {
		return fmt.Errorf("unknown compression %q (use gzip or none)", c.Compression)
	}
	if c.Timeout <= 0 {
		return errors.New("timeout must be positive")
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return fmt.Errorf("invalid header name %q", k)
		}
	}
	if err := c.TLS.Validate(); err != nil {
		return err
	}
	c.url = u.String()
	return nil
}
