package syslog

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// The transports a syslog source listens on.
const (
	ModeUDP       = "udp"
	ModeTCP       = "tcp"
	ModeTLS       = "tls"
	ModeUnix      = "unix"
	ModeUnixDgram = "unix_dgram"
)

// Config is the configuration of a syslog source.
type Config struct {
	// Mode is the transport: udp, tcp, tls (RFC 5425), unix (a stream
	// socket) or unix_dgram (a datagram socket like /dev/log). Default tcp.
	Mode string `yaml:"mode"`
	// Address is the host:port to listen on in the udp, tcp and tls modes.
	// Default 127.0.0.1:5514.
	Address string `yaml:"address"`
	// Path is the socket file in the unix modes. Required there.
	Path string `yaml:"path"`
	// SocketMode is the permission of the socket file in the unix modes, in
	// octal. Default "0666", like /dev/log, so any local program can log.
	SocketMode string `yaml:"socket_mode"`
	// TLS holds the certificate for mode tls.
	TLS TLSConfig `yaml:"tls"`
	// MaxConnections bounds the open connections of a stream mode; further
	// connections are closed at once and counted. Default 1000.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a connection that sent nothing for this long. 0,
	// the default, keeps idle connections open: senders such as rsyslog
	// keep one connection for days, and may lose a message when the
	// receiver closed it while they were idle.
	IdleTimeout config.Duration `yaml:"idle_timeout"`
	// MaxMessageSize is the largest frame accepted. Longer newline-framed
	// messages are truncated to it; a longer octet-counted frame closes the
	// connection. Default 64KiB.
	MaxMessageSize config.ByteSize `yaml:"max_message_size"`
	// Timezone is the IANA zone (or "Local" or "UTC") of RFC 3164
	// timestamps, which carry none. Default Local, the zone of the machine
	// sluice runs on, as rsyslog and syslog-ng assume.
	Timezone string `yaml:"timezone"`
	// ReceiveBuffer is the socket receive buffer (SO_RCVBUF) in the datagram
	// modes, where a full buffer drops datagrams. Default 4MiB. Linux caps
	// it at net.core.rmem_max unless sluice runs as root.
	ReceiveBuffer config.ByteSize `yaml:"receive_buffer"`
	// StreamFrom chooses the event's stream: appname (the default; the host
	// when a message has none) or host.
	StreamFrom string `yaml:"stream_from"`

	loc      *time.Location // Timezone, loaded by Validate
	sockMode uint32         // SocketMode, parsed by Validate
}

// TLSConfig is the server certificate and optional client verification.
type TLSConfig struct {
	// Cert is the PEM certificate chain file.
	Cert string `yaml:"cert"`
	// Key is the PEM private key file.
	Key string `yaml:"key"`
	// ClientCA is a PEM file of CAs; when set, clients must present a
	// certificate signed by one of them (mutual TLS).
	ClientCA string `yaml:"client_ca"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Mode = ModeTCP
	c.Address = "127.0.0.1:5514"
	c.SocketMode = "0666"
	c.MaxConnections = 1000
	c.MaxMessageSize = 64 << 10
	c.Timezone = "Local"
	c.ReceiveBuffer = 4 << 20
	c.StreamFrom = "appname"
}

// Validate checks the configuration, and keeps the parsed timezone and
// socket mode for New.
func (c *Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeUDP, ModeTCP, ModeTLS:
		if _, _, err := net.SplitHostPort(c.Address); err != nil {
			errs = append(errs, fmt.Errorf("address %q: want host:port", c.Address))
		}
	case ModeUnix, ModeUnixDgram:
		if c.Path == "" {
			errs = append(errs, fmt.Errorf("mode %s needs a path", c.Mode))
		}
		m, err := c.socketMode()
		if err != nil {
			errs = append(errs, err)
		}
		c.sockMode = m
	default:
		errs = append(errs, fmt.Errorf("mode %q: want udp, tcp, tls, unix or unix_dgram", c.Mode))
	}
	if c.Mode == ModeTLS && (c.TLS.Cert == "" || c.TLS.Key == "") {
		errs = append(errs, errors.New("mode tls needs tls.cert and tls.key"))
	}
	if c.Mode != ModeTLS && (c.TLS != TLSConfig{}) {
		errs = append(errs, fmt.Errorf("tls is set but mode is %s", c.Mode))
	}
	if c.MaxConnections < 1 {
		errs = append(errs, errors.New("max_connections must be at least 1"))
	}
	if c.MaxMessageSize < 64 || c.MaxMessageSize > 64<<20 {
		errs = append(errs, fmt.Errorf("max_message_size %v: want 64B to 64MiB", c.MaxMessageSize))
	}
	if c.ReceiveBuffer < 0 || c.ReceiveBuffer > 1<<30 {
		errs = append(errs, fmt.Errorf("receive_buffer %v: want at most 1GiB", c.ReceiveBuffer))
	}
	loc, err := c.location()
	if err != nil {
		errs = append(errs, err)
	}
	c.loc = loc
	if c.StreamFrom != "appname" && c.StreamFrom != "host" {
		errs = append(errs, fmt.Errorf("stream_from %q: want appname or host", c.StreamFrom))
	}
	return errors.Join(errs...)
}

func (c *Config) socketMode() (uint32, error) {
	m, err := strconv.ParseUint(c.SocketMode, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("socket_mode %q: want an octal permission like \"0660\"", c.SocketMode)
	}
	return uint32(m), nil
}

func (c *Config) location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: %w", c.Timezone, err)
	}
	return loc, nil
}

func (c *Config) datagram() bool { return c.Mode == ModeUDP || c.Mode == ModeUnixDgram }
