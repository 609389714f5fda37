package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Pusher is one entry of metrics.push: a destination the rules' series are
// sent to every interval (internal/metrics/push; docs/metrics.md).
type Pusher struct {
	// Type is the protocol: graphite (plaintext over TCP), statsd (UDP),
	// collectd (unixsock PUTVAL or the binary network protocol over UDP)
	// or remote_write (Prometheus remote_write 1.0 over HTTP). Required.
	Type string `yaml:"type"`
	// Address is where graphite (tcp host:port), statsd (udp host:port) or
	// collectd (unix:///path/to/unixsock or udp://host:port) is reached.
	Address string `yaml:"address"`
	// URL is remote_write's endpoint, http:// or https://.
	URL URL `yaml:"url"`
	// Interval between two pushes. Default 10s.
	Interval Duration `yaml:"interval"`
	// Timeout bounds one push (connecting and sending). Default 5s.
	Timeout Duration `yaml:"timeout"`
	// Prefix is put before every metric name: graphite and statsd join it
	// with a dot, remote_write adds it as is. Default none.
	Prefix string `yaml:"prefix"`
	// Tags selects how labels are sent. graphite: tags (default; Graphite
	// 1.1 tags, name;label=value) or path (name.label.value). statsd: path
	// (default) or dogstatsd (|#label:value).
	Tags string `yaml:"tags"`
	// MTU is the largest statsd or collectd network packet, in bytes.
	// Default 1432 for statsd, 1452 (collectd's own) for collectd.
	MTU int `yaml:"mtu"`
	// Host is collectd's host name. Default: the machine's host name.
	Host string `yaml:"host"`
	// Plugin is collectd's plugin name (no "-" or "/"). Default sluice.
	Plugin string `yaml:"plugin"`
	// MaxPending is how many intervals wait while the destination is down
	// or slow; past it the oldest is dropped and counted. Default 6.
	MaxPending int `yaml:"max_pending"`
	// Headers are added to every remote_write request.
	Headers map[string]string `yaml:"headers"`
	// Auth sets remote_write's Authorization header: basic (user and
	// password) or bearer (token). Default none.
	Auth PushAuth `yaml:"auth"`
	// TLS configures remote_write over https. Default: the system roots.
	TLS ClientTLS `yaml:"tls"`
}

// PushAuth holds remote_write credentials: user with password for basic
// auth, or token for bearer auth.
type PushAuth struct {
	// User name for basic auth.
	User string `yaml:"user"`
	// Password for basic auth. Never printed or logged.
	Password Secret `yaml:"password"`
	// Token for bearer auth. Never printed or logged.
	Token Secret `yaml:"token"`
}

// PushDefaults sets a pusher's documented defaults where p leaves them
// unset.
func (p *Pusher) PushDefaults() {
	if p.Interval == 0 {
		p.Interval = Duration(10 * time.Second)
	}
	if p.Timeout == 0 {
		p.Timeout = Duration(5 * time.Second)
	}
	if p.MaxPending == 0 {
		p.MaxPending = 6
	}
	switch {
	case p.Type == "graphite" && p.Tags == "":
		p.Tags = "tags"
	case p.Type == "statsd" && p.Tags == "":
		p.Tags = "path"
	}
	if p.MTU == 0 {
		p.MTU = map[string]int{"statsd": 1432, "collectd": 1452}[p.Type]
	}
	if p.Type == "collectd" && p.Plugin == "" {
		p.Plugin = "sluice"
	}
}

// Validate checks a pusher whose defaults are set.
func (p *Pusher) Validate() error {
	if p.Interval.D() <= 0 || p.Timeout.D() <= 0 {
		return errors.New("interval and timeout must be positive")
	}
	if p.MaxPending < 1 {
		return errors.New("max_pending must be at least 1")
	}
	switch p.Type {
	case "graphite":
		return p.checkTags("tags", "path", p.checkHostPort())
	case "statsd":
		if p.MTU < 64 || p.MTU > 65000 {
			return errors.New("mtu must be between 64 and 65000")
		}
		return p.checkTags("path", "dogstatsd", p.checkHostPort())
	case "collectd":
		return p.checkCollectd()
	case "remote_write":
		return p.checkRemoteWrite()
	case "":
		return errors.New("type is required: graphite, statsd, collectd or remote_write")
	}
	return fmt.Errorf("unknown type %q: graphite, statsd, collectd or remote_write", p.Type)
}

func (p *Pusher) checkHostPort() error {
	if _, _, err := net.SplitHostPort(p.Address); err != nil {
		return fmt.Errorf("address: want host:port: %w", err)
	}
	return nil
}

func (p *Pusher) checkTags(a, b string, err error) error {
	if err != nil {
		return err
	}
	if p.Tags != a && p.Tags != b {
		return fmt.Errorf("tags: want %s or %s, got %q", a, b, p.Tags)
	}
	return nil
}

func (p *Pusher) checkCollectd() error {
	if strings.ContainsAny(p.Plugin, "-/\" ") {
		return fmt.Errorf("plugin %q: must not contain -, /, quotes or spaces", p.Plugin)
	}
	if p.MTU < 64 || p.MTU > 65000 {
		return errors.New("mtu must be between 64 and 65000")
	}
	u, err := url.Parse(p.Address)
	switch {
	case err != nil:
	case u.Scheme == "unix" && u.Path != "":
		return nil
	case u.Scheme == "udp" && u.Port() != "":
		return nil
	}
	return fmt.Errorf("address %q: want unix:///path/to/unixsock or udp://host:port", p.Address)
}

func (p *Pusher) checkRemoteWrite() error {
	u, err := url.Parse(string(p.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %s: want http:// or https://host/path", p.URL)
	}
	if p.Auth.Token != "" && (p.Auth.User != "" || p.Auth.Password != "") {
		return errors.New("auth: set user and password, or token, not both")
	}
	return p.TLS.Validate()
}

// pushers sets the defaults of metrics.push's entries and validates them.
func (p *parser) pushers(n *yaml.Node, in map[string]Pusher) map[string]Pusher {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]Pusher, len(in))
	for _, name := range sortedKeys(in) {
		ps := in[name]
		ps.PushDefaults()
		if err := ps.Validate(); err != nil {
			p.errorf(findKey(findKey(n, "push"), name), "metrics.push."+name, "", "%v", err)
		}
		out[name] = ps
	}
	return out
}
