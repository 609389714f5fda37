// Package drainurl parses drain URLs, the logtrain grammar by which a sink
// can be named in one string: es+https://user:pass@host/index,
// syslog+tls://host:port?ca=..., https://..., wss://..., nats://...
//
// Parse checks the scheme, host and options and returns a Drain that says
// which sink type implements it. Credentials in the URL become Secrets and
// String never shows them, so a drain can be logged safely.
package drainurl

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
)

// Sink types a drain maps to.
const (
	Elasticsearch = "elasticsearch"
	HTTP          = "http"
	Syslog        = "syslog"
	Websocket     = "websocket"
	NATS          = "nats"
)

// Drain is a parsed drain URL.
type Drain struct {
	// Sink is the sink type that delivers to this drain.
	Sink string
	// Transport: for syslog udp, tcp, tls, http or https; for the others
	// the URL scheme to connect with (http, https, ws, wss, nats).
	Transport string
	// Host is host:port, with the scheme's default port filled in.
	Host string
	// Path is the URL path; for Elasticsearch the index (template) without
	// the leading slash.
	Path string
	// User and Password come from the URL's userinfo.
	User     string
	Password config.Secret
	// Auth is basic, bearer or apikey (Elasticsearch; default basic when a
	// user is given).
	Auth string
	// CA is a PEM file to verify the server with (?ca=).
	CA string
	// Insecure skips TLS verification (?insecure=true); opt-in only.
	Insecure bool
	// Query holds the remaining query parameters.
	Query url.Values
	raw   *url.URL
}

var schemes = map[string]struct{ sink, transport, port string }{
	"es":            {Elasticsearch, "https", "9200"},
	"elasticsearch": {Elasticsearch, "https", "9200"},
	"es+https":      {Elasticsearch, "https", "9200"},
	"es+http":       {Elasticsearch, "http", "9200"},
	"http":          {HTTP, "http", "80"},
	"https":         {HTTP, "https", "443"},
	"syslog":        {Syslog, "udp", "514"},
	"syslog+udp":    {Syslog, "udp", "514"},
	"syslog+tcp":    {Syslog, "tcp", "514"},
	"syslog+tls":    {Syslog, "tls", "6514"},
	"syslog+http":   {Syslog, "http", "80"},
	"syslog+https":  {Syslog, "https", "443"},
	"ws":            {Websocket, "ws", "80"},
	"wss":           {Websocket, "wss", "443"},
	"nats":          {NATS, "nats", "4222"},
}

// Parse parses a drain URL.
func Parse(s string) (*Drain, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid drain URL: %w", redactErr(err, s))
	}
	sc, ok := schemes[strings.ToLower(u.Scheme)]
	if !ok {
		return nil, fmt.Errorf("unknown drain scheme %q (use es+https, https, syslog+tls, syslog+tcp, syslog+udp, syslog+https, wss or nats)", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("drain URL %s has no host", Redact(u))
	}
	d := &Drain{Sink: sc.sink, Transport: sc.transport, Path: u.Path, Query: u.Query(), raw: u}
	port := u.Port()
	if port == "" {
		port = sc.port
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("drain URL %s: invalid port %q", Redact(u), port)
	}
	d.Host = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		d.User = u.User.Username()
		p, _ := u.User.Password()
		d.Password = config.Secret(p)
	}
	q := d.Query
	d.CA = q.Get("ca")
	d.Insecure = q.Get("insecure") == "true" || q.Get("insecure") == "1"
	d.Auth = strings.ToLower(q.Get("auth"))
	for _, k := range []string{"ca", "insecure", "auth"} {
		q.Del(k)
	}
	if d.Sink == Elasticsearch {
		d.Path = strings.Trim(u.Path, "/")
		switch d.Auth {
		case "":
			if d.User != "" {
				d.Auth = "basic"
			}
		case "basic", "bearer", "apikey":
		default:
			return nil, fmt.Errorf("drain URL %s: unknown auth %q (basic, bearer or apikey)", Redact(u), d.Auth)
		}
	}
	if (d.CA != "" || d.Insecure) && !d.TLS() {
		return nil, fmt.Errorf("drain URL %s: ca and insecure need a TLS scheme", Redact(u))
	}
	return d, nil
}

// TLS reports whether the drain is reached over TLS.
func (d *Drain) TLS() bool {
	switch d.Transport {
	case "tls", "https", "wss":
		return true
	}
	return false
}

// URL returns the address to connect to, without credentials or sluice's
// own query options: for HTTP-based drains an http(s) or ws(s) URL.
func (d *Drain) URL() string {
	scheme := d.Transport
	if scheme == "tls" || scheme == "tcp" || scheme == "udp" {
		return scheme + "://" + d.Host
	}
	u := url.URL{Scheme: scheme, Host: d.Host, Path: d.Path, RawQuery: d.Query.Encode()}
	if d.Sink == Elasticsearch {
		u.Path = ""
	}
	return u.String()
}

// String is the drain URL with its password replaced by <redacted>.
func (d *Drain) String() string { return Redact(d.raw) }

// Redact formats u with any password hidden.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "redacted")
		}
	}
	return strings.Replace(c.String(), ":redacted@", ":<redacted>@", 1)
}

// redactErr keeps url.Parse errors from echoing a password.
func redactErr(err error, raw string) error {
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), raw, Redact(u)))
	}
	if i := strings.Index(raw, "@"); i > 0 {
		return fmt.Errorf("malformed URL (credentials hidden)")
	}
	return err
}
