package syslog

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/drainurl"
	wire "github.com/sluice-log/sluice/internal/syslog"
)

// The transports of the syslog sink.
const (
	ModeUDP   = "udp"
	ModeTCP   = "tcp"
	ModeTLS   = "tls"
	ModeHTTP  = "http"
	ModeHTTPS = "https"
)

// The framings of the stream transports (RFC 6587).
const (
	FramingOctet = "octet"
	FramingLF    = "lf"
)

const (
	// minMessageSize is the size RFC 5424 requires every receiver to take.
	minMessageSize = 480
	// maxDatagram is the largest UDP payload IPv4 carries; a UDP message is
	// never longer, whatever max_message_size says.
	maxDatagram = 65507
)

// Config configures the syslog sink. Set either url, or mode and address.
type Config struct {
	// URL is a drain URL: syslog+udp:// (alias syslog://), syslog+tcp://,
	// syslog+tls://host:port?ca=FILE, syslog+http:// or syslog+https://
	// (logplex framing, as Heroku drains send it; user:password in the URL
	// is sent as basic auth). Not together with mode and address.
	URL URL `yaml:"url"`
	// Mode is the transport when url is not set: udp, tcp or tls. Default
	// tcp.
	Mode string `yaml:"mode"`
	// Address is the receiver's host:port when url is not set.
	Address string `yaml:"address"`
	// Framing is how messages are delimited on tcp and tls: octet (RFC
	// 6587 octet counting, "LEN SP MSG", the default, as RFC 5425 requires
	// for TLS) or lf (each message ends with a newline; newlines inside a
	// message become spaces). UDP sends one message per datagram and
	// http(s) always uses octet counting.
	Framing string `yaml:"framing"`
	// MaxMessageSize is the largest message sent, in bytes, framing
	// excluded. Longer messages are cut to it (at a UTF-8 character
	// boundary) and counted in sluice_syslog_truncated_total. UDP messages
	// are at most 65507 bytes, the largest datagram. Default 64KiB; at
	// least 480B.
	MaxMessageSize config.ByteSize `yaml:"max_message_size"`
	// TLS configures tls and https connections.
	TLS TLS `yaml:"tls"`
	// AppName is the APP-NAME of events that have neither an appname
	// field nor a stream. Default none ("-").
	AppName string `yaml:"app_name"`
	// Facility is the facility (name, like local0) of events without a
	// valid facility field. Default user.
	Facility string `yaml:"facility"`
	// Severity is the severity (name, like info) of events without a valid
	// severity field. Default notice.
	Severity string `yaml:"severity"`
	// Timeout bounds connecting and each write (or HTTP request). Default
	// 30s.
	Timeout config.Duration `yaml:"timeout"`

	// dest is the destination Validate resolved, for the constructor.
	dest *target
}

// TLS holds client TLS settings; all are optional.
type TLS struct {
	// CA is a PEM file of certificate authorities that replace the system
	// roots for verifying the receiver. The url's ?ca= sets it too.
	CA string `yaml:"ca"`
	// Cert is a PEM client certificate for mutual TLS; needs key.
	Cert string `yaml:"cert"`
	// Key is the PEM private key of cert.
	Key string `yaml:"key"`
	// InsecureSkipVerify disables verification of the receiver's
	// certificate. Only for testing; default false. The url's
	// ?insecure=true sets it too.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// ServerName is the name the receiver's certificate must carry.
	// Default: the host of the address.
	ServerName string `yaml:"server_name"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Framing = FramingOctet
	c.MaxMessageSize = 64 << 10
	c.Facility = "user"
	c.Severity = "notice"
	c.Timeout = config.Duration(30 * time.Second)
}

// Validate checks the destination and the options, and keeps the resolved
// destination for the constructor.
func (c *Config) Validate() error {
	t, err := c.target()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if c.Framing != FramingOctet && c.Framing != FramingLF {
		errs = append(errs, fmt.Errorf("framing %q: want octet or lf", c.Framing))
	}
	if c.MaxMessageSize < minMessageSize || c.MaxMessageSize > 64<<20 {
		errs = append(errs, fmt.Errorf("max_message_size %v: want 480B to 64MiB", c.MaxMessageSize))
	}
	if _, ok := wire.FacilityCode(c.Facility); !ok {
		errs = append(errs, fmt.Errorf("facility %q: want a name like user, daemon or local0", c.Facility))
	}
	if _, ok := wire.SeverityCode(c.Severity); !ok {
		errs = append(errs, fmt.Errorf("severity %q: want a name like info, notice or err", c.Severity))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.dest = t
	return nil
}

// target is where and how the sink sends, resolved from url or mode and
// address.
type target struct {
	mode string
	// addr is host:port for udp, tcp and tls; the request URL for http(s).
	addr string
	tls  TLS
	// user and password are basic-auth credentials from an http(s) url.
	user     string
	password config.Secret
}

func (t *target) secure() bool { return t.mode == ModeTLS || t.mode == ModeHTTPS }

// String names the destination for logs and errors, without credentials.
func (t *target) String() string {
	if t.mode == ModeHTTP || t.mode == ModeHTTPS {
		return "syslog+" + t.addr
	}
	return "syslog+" + t.mode + "://" + t.addr
}

// target resolves the destination and checks that the TLS settings fit it.
func (c *Config) target() (*target, error) {
	t, err := c.destination()
	if err != nil {
		return nil, err
	}
	if !t.secure() && t.tls != (TLS{}) {
		return nil, fmt.Errorf("tls is set but the transport is %s", t.mode)
	}
	if (t.tls.Cert == "") != (t.tls.Key == "") {
		return nil, errors.New("tls: cert and key must be set together")
	}
	return t, nil
}

func (c *Config) destination() (*target, error) {
	if c.URL != "" {
		if c.Mode != "" || c.Address != "" {
			return nil, errors.New("set either url, or mode and address, not both")
		}
		return c.fromURL()
	}
	mode := c.Mode
	if mode == "" {
		mode = ModeTCP
	}
	switch mode {
	case ModeUDP, ModeTCP, ModeTLS:
	case ModeHTTP, ModeHTTPS:
		return nil, fmt.Errorf("mode %s: use url: syslog+%s://host/path", mode, mode)
	default:
		return nil, fmt.Errorf("mode %q: want udp, tcp or tls (or a url)", mode)
	}
	if c.Address == "" {
		return nil, errors.New("address is required (host:port), or set url")
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return nil, fmt.Errorf("address %q: want host:port", c.Address)
	}
	return &target{mode: mode, addr: c.Address, tls: c.TLS}, nil
}

// fromURL reads a drain URL. Its ?ca= and ?insecure= fill the TLS settings
// not given explicitly; other query parameters are only allowed (and kept)
// in http(s) URLs.
func (c *Config) fromURL() (*target, error) {
	d, err := drainurl.Parse(string(c.URL))
	if err != nil {
		return nil, err
	}
	if d.Sink != drainurl.Syslog {
		return nil, fmt.Errorf("url %s is not a syslog drain (use syslog+udp, syslog+tcp, syslog+tls, syslog+http or syslog+https)", d)
	}
	t := &target{mode: d.Transport, addr: d.Host, tls: c.TLS, user: d.User, password: d.Password}
	if t.tls.CA == "" {
		t.tls.CA = d.CA
	}
	t.tls.InsecureSkipVerify = t.tls.InsecureSkipVerify || d.Insecure
	switch t.mode {
	case ModeHTTP, ModeHTTPS:
		t.addr = d.URL()
	default:
		if d.User != "" {
			return nil, fmt.Errorf("url %s: credentials are only sent over syslog+http(s)", d)
		}
		if len(d.Query) > 0 {
			var keys []string
			for k := range d.Query {
				keys = append(keys, k)
			}
			return nil, fmt.Errorf("url %s: unknown option %s (syslog URLs take ca and insecure)", d, strings.Join(keys, ", "))
		}
	}
	return t, nil
}

// URL is a drain URL that hides the password of its userinfo when printed
// (String, %v, %#v, YAML, JSON and slog output).
type URL string

// String returns the URL with its password replaced by <redacted>.
func (u URL) String() string {
	p, err := url.Parse(string(u))
	if err != nil {
		if strings.Contains(string(u), "@") {
			return "<redacted>"
		}
		return string(u)
	}
	return drainurl.Redact(p)
}

// GoString keeps %#v from revealing the password.
func (u URL) GoString() string { return strconv.Quote(u.String()) }

// MarshalYAML implements yaml.Marshaler.
func (u URL) MarshalYAML() (any, error) { return u.String(), nil }

// MarshalText keeps JSON and slog output redacted.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }
