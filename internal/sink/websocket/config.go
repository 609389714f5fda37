package wssink

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/drainurl"
)

// Config configures the websocket sink.
type Config struct {
	// URL of the receiving sluice's websocket source: ws://host:port/path
	// or wss://host:port/path. As a drain URL it may carry user:password@
	// (basic auth, for a reverse proxy) and ?ca=FILE or ?insecure=true.
	// Required.
	URL config.URL `yaml:"url"`
	// Token is sent as "Authorization: Bearer <token>", or in
	// X-Sluice-Authorization when user is set too. Never printed or logged.
	Token config.Secret `yaml:"token"`
	// User for basic auth, typically checked by a reverse proxy
	// (nginx auth_basic) in front of the receiver.
	User string `yaml:"user"`
	// Password for basic auth. Never printed or logged.
	Password config.Secret `yaml:"password"`
	// TLS configures wss:// connections. Default: the system roots.
	TLS config.ClientTLS `yaml:"tls"`
	// Compression compresses each batch (S2) when that makes it smaller.
	// Default true.
	Compression bool `yaml:"compression"`
	// PingInterval is how often an idle or busy connection is pinged.
	// Default 20s.
	PingInterval config.Duration `yaml:"ping_interval"`
	// PingTimeout is how long a pong may take before the connection is
	// considered dead, closed and dialled again. Default 10s.
	PingTimeout config.Duration `yaml:"ping_timeout"`
	// Timeout bounds connecting, sending a batch, and each wait for its
	// receipt. When a receipt takes longer the write is reported as failed
	// and retried by the pipeline, which then goes on waiting for the same
	// receipt on the same connection without sending the batch again.
	// Default 30s.
	Timeout config.Duration `yaml:"timeout"`

	// dest is what Validate resolved from url and the options, for the
	// constructor.
	dest *destination
}

// destination is where and how the sink connects: the URL without
// credentials, the credentials from the url or the options, and the TLS
// settings with the url's ?ca= and ?insecure= applied.
type destination struct {
	url        string
	user, pass string // pass is secret
	tls        config.ClientTLS
	secure     bool
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Compression = true
	c.PingInterval = config.Duration(20 * time.Second)
	c.PingTimeout = config.Duration(10 * time.Second)
	c.Timeout = config.Duration(30 * time.Second)
}

// Validate checks the URL, credentials and durations, and keeps the
// resolved destination for the constructor.
func (c *Config) Validate() error {
	d, err := c.drain()
	if err != nil {
		return err
	}
	switch {
	case c.PingInterval <= 0 || c.PingTimeout <= 0 || c.Timeout <= 0:
		return errors.New("ping_interval, ping_timeout and timeout must be positive")
	case c.Password != "" && c.User == "":
		return errors.New("password needs user")
	}
	if err := c.TLS.Validate(); err != nil {
		return err
	}
	switch {
	case !d.TLS() && (c.TLS != config.ClientTLS{}):
		return errors.New("tls settings need a wss:// url")
	case d.User != "" && c.User != "":
		return errors.New("set user either in the url or as user, not both")
	}
	dest := &destination{url: d.URL(), user: c.User, pass: c.Password.Reveal(), tls: c.TLS, secure: d.TLS()}
	if d.User != "" {
		dest.user, dest.pass = d.User, d.Password.Reveal()
	}
	dest.tls.InsecureSkipVerify = dest.tls.InsecureSkipVerify || d.Insecure
	if d.CA != "" {
		dest.tls.CA = d.CA
	}
	c.dest = dest
	return nil
}

func (c *Config) drain() (*drainurl.Drain, error) {
	if c.URL == "" {
		return nil, errors.New("url is required")
	}
	d, err := drainurl.Parse(string(c.URL))
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if d.Sink != drainurl.Websocket {
		return nil, fmt.Errorf("url scheme must be ws or wss, not %q", d.Transport)
	}
	return d, nil
}
