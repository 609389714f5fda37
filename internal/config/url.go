package config

import (
	"net/url"
	"strconv"
	"strings"
)

// URL is a URL string whose password never shows: String, fmt (%v, %s,
// %#v), YAML, JSON and slog output print the password of its userinfo as
// <redacted>, and a value that does not parse as a URL but holds an "@"
// as <redacted> entirely. Use string(u) at the one place that dials.
type URL string

// String returns the URL with its password replaced by <redacted>.
func (u URL) String() string {
	p, err := url.Parse(string(u))
	if err != nil {
		if strings.Contains(string(u), "@") {
			return redacted
		}
		return string(u)
	}
	if p.User != nil {
		if _, has := p.User.Password(); has {
			p.User = url.UserPassword(p.User.Username(), "redacted")
			return strings.Replace(p.String(), ":redacted@", ":"+redacted+"@", 1)
		}
	}
	return p.String()
}

// GoString keeps %#v from revealing the password.
func (u URL) GoString() string { return strconv.Quote(u.String()) }

// MarshalYAML implements yaml.Marshaler.
func (u URL) MarshalYAML() (any, error) { return u.String(), nil }

// MarshalText keeps JSON and slog output redacted.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }
