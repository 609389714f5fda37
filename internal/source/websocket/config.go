package wssource

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/relay"
)

// Config configures the websocket source.
type Config struct {
	// Address is host:port to listen on. Default 127.0.0.1:9582.
	Address string `yaml:"address"`
	// Path is the URL path senders connect to. Default /relay.
	Path string `yaml:"path"`
	// TLS serves wss:// when cert and key are set; client_ca requires
	// client certificates.
	TLS config.ServerTLS `yaml:"tls"`
	// Auth requires a bearer token or a basic-auth user (bcrypt hash) in
	// the handshake; 401 otherwise. Default: no authentication.
	Auth config.Auth `yaml:"auth"`
	// MaxMessageSize bounds one relay message, and the decompressed size
	// of its payload. It is announced to senders, which split batches to
	// fit. Default 8MiB; at least 4KiB.
	MaxMessageSize config.ByteSize `yaml:"max_message_size"`
	// PingInterval is how often each connection is pinged. Default 20s.
	PingInterval config.Duration `yaml:"ping_interval"`
	// PingTimeout is how long a pong may take before the connection is
	// closed. Default 10s.
	PingTimeout config.Duration `yaml:"ping_timeout"`
	// ShutdownTimeout bounds how long stopping waits for the receipts of
	// batches already emitted; senders resend the rest. Default 30s.
	ShutdownTimeout config.Duration `yaml:"shutdown_timeout"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Address = "127.0.0.1:9582"
	c.Path = "/relay"
	c.MaxMessageSize = 8 << 20
	c.PingInterval = config.Duration(20 * time.Second)
	c.PingTimeout = config.Duration(10 * time.Second)
	c.ShutdownTimeout = config.Duration(30 * time.Second)
}

// Validate implements component.Validator.
func (c *Config) Validate() error {
	switch {
	case c.Address == "":
		return errors.New("address is required")
	case !strings.HasPrefix(c.Path, "/"):
		return errors.New("path must start with /")
	case c.TLS.Enabled() && (c.TLS.Cert == "" || c.TLS.Key == ""):
		return errors.New("tls needs both cert and key")
	case c.MaxMessageSize < relay.MinMaxMessageSize || c.MaxMessageSize > 1<<30:
		return fmt.Errorf("max_message_size must be between 4KiB and 1GiB, not %s", c.MaxMessageSize)
	case c.PingInterval <= 0 || c.PingTimeout <= 0:
		return errors.New("ping_interval and ping_timeout must be positive")
	}
	return nil
}
