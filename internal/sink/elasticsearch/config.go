package elasticsearch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/drainurl"
	"github.com/sluice-log/sluice/internal/template"
)

// Config configures the elasticsearch sink.
type Config struct {
	// URL is the cluster: a drain URL (es+https://user:pass@host:9200/index?auth=basic|bearer|apikey,
	// es://, elasticsearch://, es+http://) or a plain http(s)://host:port.
	URL config.URL `yaml:"url"`
	// Index names the target index; strftime verbs (%Y.%m.%d, from the
	// event's timestamp) and {{ .field }} references are allowed. Default:
	// the drain URL's path, else sluice-%Y.%m.%d. Rendered names are lowercased.
	Index string `yaml:"index"`
	// Auth sets credentials when the URL has none.
	Auth Auth `yaml:"auth"`
	// TLS verifies the cluster with a custom CA (which overrides the URL's
	// ?ca=) and may present a client certificate; insecure_skip_verify is
	// opt-in.
	TLS config.ClientTLS `yaml:"tls"`
	// Compression is gzip (default) or none.
	Compression string `yaml:"compression"`
	// Timeout bounds one bulk request. Default 60s.
	Timeout config.Duration `yaml:"timeout"`
	// IDField names a field whose value is the document _id. Default: an id
	// derived from the event's content, so a retried batch does not create
	// duplicates.
	IDField string `yaml:"id_field"`
	// Pipeline is an ingest pipeline to run on every document.
	Pipeline string `yaml:"pipeline"`
	// DeadLetter is a file that receives, as JSON lines, the documents the
	// cluster refused for good (mapping errors), with the reason.
	DeadLetter string `yaml:"dead_letter"`

	// ep and index are what Validate resolved, for the constructor.
	ep    *endpoint
	index *template.Template
}

// Auth is how the sink authenticates when the URL does not say.
type Auth struct {
	// User and Password for basic auth.
	User     string        `yaml:"user"`
	Password config.Secret `yaml:"password"`
	// Token is sent as "Authorization: Bearer <token>".
	Token config.Secret `yaml:"token"`
	// APIKey is sent as "Authorization: ApiKey <key>" (base64 id:key, as
	// Elasticsearch hands it out).
	APIKey config.Secret `yaml:"api_key"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Compression = "gzip"
	c.Timeout = config.Duration(60 * time.Second)
}

// Validate implements component.Validator. It keeps the resolved
// endpoint and the parsed index template for the constructor.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	ep, err := c.endpoint()
	if err != nil {
		return err
	}
	idx, err := template.Parse(ep.index)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if c.Compression != "gzip" && c.Compression != "none" {
		return fmt.Errorf("compression must be gzip or none, not %q", c.Compression)
	}
	if err := c.TLS.Validate(); err != nil {
		return err
	}
	c.ep, c.index = ep, idx
	return nil
}

// endpoint resolves the URL into where to send and how to authenticate.
type endpoint struct {
	base   string // scheme://host:port
	index  string
	tls    config.ClientTLS // with the URL's ?ca= and ?insecure= applied
	auth   string           // Authorization header; secret
	secret []string
}

func (c *Config) endpoint() (*endpoint, error) {
	u := string(c.URL)
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		u = "es+" + u
	}
	d, err := drainurl.Parse(u)
	if err != nil {
		return nil, err
	}
	if d.Sink != drainurl.Elasticsearch {
		return nil, fmt.Errorf("url %s is not an elasticsearch drain", d)
	}
	ep := &endpoint{base: d.URL(), index: d.Path, tls: c.TLS}
	if c.Index != "" {
		ep.index = c.Index
	}
	if ep.index == "" {
		ep.index = "sluice-%Y.%m.%d"
	}
	if ep.tls.CA == "" {
		ep.tls.CA = d.CA
	}
	ep.tls.InsecureSkipVerify = ep.tls.InsecureSkipVerify || d.Insecure
	user, pass, auth := d.User, d.Password.Reveal(), d.Auth
	switch {
	case auth == "bearer":
		ep.auth, ep.secret = "Bearer "+pass, []string{pass}
	case auth == "apikey":
		ep.auth, ep.secret = "ApiKey "+pass, []string{pass}
	case user != "" || pass != "":
		ep.auth, ep.secret = basic(user, pass), []string{pass, strings.TrimPrefix(basic(user, pass), "Basic ")}
	case c.Auth.APIKey != "":
		ep.auth, ep.secret = "ApiKey "+c.Auth.APIKey.Reveal(), []string{c.Auth.APIKey.Reveal()}
	case c.Auth.Token != "":
		ep.auth, ep.secret = "Bearer "+c.Auth.Token.Reveal(), []string{c.Auth.Token.Reveal()}
	case c.Auth.User != "":
		cred := basic(c.Auth.User, c.Auth.Password.Reveal())
		ep.auth, ep.secret = cred, []string{c.Auth.Password.Reveal(), strings.TrimPrefix(cred, "Basic ")}
	}
	return ep, nil
}
