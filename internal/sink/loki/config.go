package loki

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/template"
)

// Config configures the loki sink.
type Config struct {
	// URL of Loki's push endpoint, e.g.
	// http://loki:3100/loki/api/v1/push. Required.
	URL config.URL `yaml:"url"`
	// Encoding of the push request: protobuf (default; snappy-compressed,
	// Content-Type application/x-protobuf) or json.
	Encoding string `yaml:"encoding"`
	// Compression of a json body: none (default) or gzip. A protobuf body
	// is always snappy-compressed, as Loki expects.
	Compression string `yaml:"compression"`
	// Labels of each event's stream: label name to a template over the
	// event (docs/configuration.md#templates). A label whose value renders
	// empty is left out. At least one is required.
	Labels map[string]string `yaml:"labels"`
	// MaxLabelSets caps the distinct label sets (streams) this sink sends
	// to; the events of any further label set go to the stream
	// {sluice_overflow="true"} instead, counted in
	// sluice_loki_label_overflow_total. Default 10000.
	MaxLabelSets int `yaml:"max_label_sets"`
	// Line is what an entry's line holds: message (default; the event's
	// message) or json (the whole event in the json encoding).
	Line string `yaml:"line"`
	// Tenant is sent as X-Scope-OrgID, for a multi-tenant Loki. Default
	// none.
	Tenant string `yaml:"tenant"`
	// Headers are added to every request.
	Headers map[string]string `yaml:"headers"`
	// Auth sets the Authorization header: basic (user and password) or
	// bearer (token). Default none.
	Auth Auth `yaml:"auth"`
	// TLS configures https connections. Default: the system roots.
	TLS config.ClientTLS `yaml:"tls"`
	// Timeout of one request. Default 30s.
	Timeout config.Duration `yaml:"timeout"`

	url    string
	labels []label // sorted by name
}

// Auth holds credentials for the Authorization header.
type Auth struct {
	// User name for basic auth.
	User string `yaml:"user"`
	// Password for basic auth. Never printed or logged.
	Password config.Secret `yaml:"password"`
	// Token for bearer auth. Never printed or logged.
	Token config.Secret `yaml:"token"`
}

// label is one configured label and its compiled template.
type label struct {
	name string
	tmpl *template.Template
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Encoding, c.Compression, c.Line = "protobuf", "none", "message"
	c.MaxLabelSets = 10000
	c.Timeout = config.Duration(30 * time.Second)
}

// Validate checks the URL, enumerations and label templates.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	u, err := url.Parse(string(c.URL))
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("url must be an http:// or https:// URL with a host")
	}
	c.url = string(c.URL)
	switch {
	case c.Encoding != "protobuf" && c.Encoding != "json":
		return fmt.Errorf("unknown encoding %q (use protobuf or json)", c.Encoding)
	case c.Compression != "none" && c.Compression != "gzip":
		return fmt.Errorf("unknown compression %q (use none or gzip)", c.Compression)
	case c.Compression == "gzip" && c.Encoding != "json":
		return errors.New("compression gzip is for encoding json (protobuf is always snappy-compressed)")
	case c.Line != "message" && c.Line != "json":
		return fmt.Errorf("unknown line %q (use message or json)", c.Line)
	case c.MaxLabelSets < 1:
		return errors.New("max_label_sets must be at least 1")
	case c.Timeout <= 0:
		return errors.New("timeout must be positive")
	case len(c.Labels) == 0:
		return errors.New("labels: at least one label is required")
	case c.Auth.Token != "" && c.Auth.User != "":
		return errors.New("auth: set either token or user and password, not both")
	}
	c.labels = c.labels[:0]
	for name, src := range c.Labels {
		if !labelName.MatchString(name) {
			return fmt.Errorf("labels: invalid label name %q", name)
		}
		t, err := template.Parse(src)
		if err != nil {
			return fmt.Errorf("labels: %s: %w", name, err)
		}
		c.labels = append(c.labels, label{name: name, tmpl: t})
	}
	sort.Slice(c.labels, func(i, j int) bool { return c.labels[i].name < c.labels[j].name })
	return c.TLS.Validate()
}
