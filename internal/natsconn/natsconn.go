// Package natsconn holds what the nats sink and source share: the
// connection settings (URL, auth, TLS), connecting with reconnects that
// never give up, and creating a JetStream stream when it does not exist.
package natsconn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/config"
)

// Auth holds the credentials nats.go supports. Set at most one of: user
// (with password), token, nkey_seed_file, credentials_file.
type Auth struct {
	// User name for user/password authentication.
	User string `yaml:"user"`
	// Password for user. Never printed or logged.
	Password config.Secret `yaml:"password"`
	// Token for token authentication. Never printed or logged.
	Token config.Secret `yaml:"token"`
	// NKeySeedFile is a file holding an nkey user seed (SU...), for nkey
	// authentication.
	NKeySeedFile string `yaml:"nkey_seed_file"`
	// CredentialsFile is a NATS credentials file (a user JWT and its nkey
	// seed), for decentralised JWT authentication.
	CredentialsFile string `yaml:"credentials_file"`
}

// Conn is the connection part of the sink's and the source's config.
type Conn struct {
	// URL of the NATS server, nats:// or tls://; several may be given
	// separated by commas (a cluster). Required.
	URL string `yaml:"url"`
	// Auth authenticates the connection. Default none.
	Auth Auth `yaml:"auth"`
	// TLS configures the connection's TLS (tls:// URLs, or a server that
	// requires TLS). Default: the system roots when the server asks.
	TLS config.ClientTLS `yaml:"tls"`
	// ConnectTimeout bounds one connection attempt. Default 5s.
	ConnectTimeout config.Duration `yaml:"connect_timeout"`
}

// Defaults sets the documented defaults.
func (c *Conn) Defaults() { c.ConnectTimeout = config.Duration(5 * time.Second) }

// Validate checks the URL and that at most one kind of auth is set.
func (c *Conn) Validate() error {
	if c.URL == "" {
		return errors.New("url is required")
	}
	for _, raw := range strings.Split(c.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("url is not a valid URL") // url.Parse quotes the input, which may hold a password
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("url scheme %q is not supported (use nats or tls)", u.Scheme)
		}
		if u.Host == "" {
			return errors.New("url has no host")
		}
	}
	a := c.Auth
	n := 0
	for _, set := range []bool{a.User != "", a.Token != "", a.NKeySeedFile != "", a.CredentialsFile != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("auth: set only one of user, token, nkey_seed_file and credentials_file")
	}
	if a.Password != "" && a.User == "" {
		return errors.New("auth: password needs user")
	}
	if c.ConnectTimeout <= 0 {
		return errors.New("connect_timeout must be positive")
	}
	return c.TLS.Validate()
}

// Options returns the nats.go options for c: the auth, TLS, and
// reconnecting forever (a sink or source outlives server restarts), also
// when the first connection fails (RetryOnFailedConnect), so sluice starts
// while the server is down.
func (c *Conn) Options(name string) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(c.ConnectTimeout.D()),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, 500*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		// Publishes made while reconnecting are buffered up to this much;
		// beyond it they fail at once and the sink retries them.
		nats.ReconnectBufSize(32 << 20),
		// A write to a server that stopped reading (hung, or a network
		// that drops packets) fails after this instead of nats.go's
		// minute, during which a publish blocks and the sink cannot
		// answer a cancelled context; the connection then reconnects.
		nats.FlusherTimeout(2 * time.Second),
	}
	a := c.Auth
	switch {
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password.Reveal()))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token.Reveal()))
	case a.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(a.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("reading nkey seed file: %w", err)
		}
		opts = append(opts, o)
	case a.CredentialsFile != "":
		opts = append(opts, nats.UserCredentials(a.CredentialsFile))
	}
	if c.TLS != (config.ClientTLS{}) {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// Connect connects to c.URL. With RetryOnFailedConnect a server that is
// down is not an error: the connection comes up when the server does.
func (c *Conn) Connect(name string) (*nats.Conn, error) {
	opts, err := c.Options(name)
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to nats: %w", err)
	}
	return nc, nil
}

// Stream configures the stream a sink or source creates when it does not
// exist. An existing stream is used as it is, never changed.
type Stream struct {
	// Retention policy of a created stream: limits (default; messages are
	// kept until a limit removes them), workqueue (a message is removed
	// once acknowledged) or interest.
	Retention string `yaml:"retention"`
	// Storage of a created stream: file (default) or memory.
	Storage string `yaml:"storage"`
	// MaxAge of a created stream's messages. Default 0: no limit.
	MaxAge config.Duration `yaml:"max_age"`
	// MaxBytes of a created stream. Default 0: no limit.
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// MaxMsgs of a created stream. Default 0: no limit.
	MaxMsgs int64 `yaml:"max_msgs"`
	// Replicas of a created stream (in a clustered JetStream). Default 1.
	Replicas int `yaml:"replicas"`
	// DuplicateWindow of a created stream: how long JetStream remembers
	// message ids to drop resent messages. Default 2m.
	DuplicateWindow config.Duration `yaml:"duplicate_window"`
}

// Defaults sets the documented defaults.
func (s *Stream) Defaults() {
	s.Retention, s.Storage, s.Replicas = "limits", "file", 1
	s.DuplicateWindow = config.Duration(2 * time.Minute)
}

// Validate checks the enumerations and limits.
func (s *Stream) Validate() error {
	switch s.Retention {
	case "limits", "workqueue", "interest":
	default:
		return fmt.Errorf("unknown retention %q (use limits, workqueue or interest)", s.Retention)
	}
	if s.Storage != "file" && s.Storage != "memory" {
		return fmt.Errorf("unknown storage %q (use file or memory)", s.Storage)
	}
	if s.MaxAge < 0 || s.MaxBytes < 0 || s.MaxMsgs < 0 || s.Replicas < 1 || s.DuplicateWindow < 0 {
		return errors.New("max_age, max_bytes, max_msgs and duplicate_window must not be negative, replicas at least 1")
	}
	return nil
}

// StreamConfig returns the JetStream config of a stream named name with
// subjects and s's settings.
func (s *Stream) StreamConfig(name string, subjects []string) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{Name: name, Subjects: subjects, MaxAge: s.MaxAge.D(),
		MaxMsgs: -1, MaxBytes: -1, Replicas: s.Replicas, Duplicates: s.DuplicateWindow.D()}
	if s.MaxMsgs > 0 {
		cfg.MaxMsgs = s.MaxMsgs
	}
	if s.MaxBytes > 0 {
		cfg.MaxBytes = int64(s.MaxBytes)
	}
	switch s.Retention {
	case "workqueue":
		cfg.Retention = jetstream.WorkQueuePolicy
	case "interest":
		cfg.Retention = jetstream.InterestPolicy
	}
	if s.Storage == "memory" {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// EnsureStream creates the stream described by cfg unless a stream of
// that name exists (which is used as it is).
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	_, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("looking up stream %s: %w", cfg.Name, err)
	}
	if len(cfg.Subjects) == 0 {
		return fmt.Errorf("stream %s does not exist and no subjects are set to create it", cfg.Name)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("creating stream %s: %w", cfg.Name, err)
	}
	return nil
}
