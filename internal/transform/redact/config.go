package redact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
)

// The built-in pattern names.
const (
	Email       = "email"
	IPv4        = "ipv4"
	IPv6        = "ipv6"
	CreditCard  = "credit_card"
	BearerToken = "bearer_token"
)

// Builtins lists the built-in patterns in the order they are applied.
var Builtins = []string{Email, IPv4, IPv6, CreditCard, BearerToken}

// The modes.
const (
	ModeReplace = "replace"
	ModeHash    = "hash"
)

// Config is the redact transform's configuration.
type Config struct {
	// Patterns are the built-in patterns to apply: email, ipv4, ipv6,
	// credit_card (13-19 digits passing the Luhn check, optionally grouped
	// by spaces or dashes) and bearer_token (the token after
	// `Authorization: Bearer`, JWTs and common API key shapes). Default:
	// all of them, unless custom is given.
	Patterns []string `yaml:"patterns"`
	// Custom are extra patterns: a name and an RE2 regex. When the regex
	// has a capturing group, only the first group is redacted, so
	// `password=(\S+)` keeps `password=`.
	Custom []Custom `yaml:"custom"`
	// Fields are the string fields to redact; `message` is the message,
	// and a dotted name (`http.client`) reaches into nested objects when
	// no field has that exact name. Default: [message].
	Fields []string `yaml:"fields"`
	// Mode is `replace` (the match becomes the replacement text) or `hash`
	// (it becomes a keyed hash of itself, so equal values stay linkable
	// without being revealed). Default: replace.
	Mode string `yaml:"mode"`
	// Replacement is the text a match becomes; `{pattern}` in it is the
	// pattern's name and, in hash mode, `{hash}` the hex HMAC-SHA256 of the
	// match. Default: `[REDACTED]`, or `[{pattern}:{hash}]` in hash mode.
	Replacement string `yaml:"replacement"`
	// HashKey is the HMAC key of hash mode, e.g. `${REDACT_KEY}`: at least
	// 8 bytes; use 32 random ones (`openssl rand -hex 32`). Required in
	// hash mode.
	HashKey config.Secret `yaml:"hash_key"`
	// HashBytes is how many bytes of the HMAC `{hash}` shows, in hex
	// (twice as many characters), 4 to 32. Default: 8.
	HashBytes int `yaml:"hash_bytes"`

	pats []*pattern // built by Validate
}

// Custom is one user-defined pattern.
type Custom struct {
	// Name names the pattern in `{pattern}` and in the counter's label.
	Name string `yaml:"name"`
	// Regex is an RE2 regular expression.
	Regex string `yaml:"regex"`
}

// Defaults sets the defaults.
func (c *Config) Defaults() {
	c.Fields = []string{"message"}
	c.Mode = ModeReplace
	c.HashBytes = 8
}

var customName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks the config and builds the patterns, keeping them for New.
func (c *Config) Validate() error {
	pats, err := c.build()
	c.pats = pats
	return err
}

func (c *Config) build() ([]*pattern, error) {
	if err := c.checkMode(); err != nil {
		return nil, err
	}
	if len(c.Fields) == 0 {
		return nil, errors.New("fields: at least one field, e.g. fields: [message]")
	}
	names := c.Patterns
	if len(names) == 0 && len(c.Custom) == 0 {
		names = Builtins
	}
	var pats []*pattern
	seen := map[string]bool{}
	for _, n := range names {
		p, ok := builtin(n)
		switch {
		case !ok:
			return nil, fmt.Errorf("patterns: unknown pattern %q (known: %s)", n, strings.Join(Builtins, ", "))
		case seen[n]:
			return nil, fmt.Errorf("patterns: %q appears twice", n)
		}
		seen[n] = true
		pats = append(pats, p)
	}
	for i, cu := range c.Custom {
		p, err := cu.compile()
		switch {
		case err != nil:
			return nil, fmt.Errorf("custom[%d]: %w", i, err)
		case seen[cu.Name]:
			return nil, fmt.Errorf("custom[%d]: name %q is already used", i, cu.Name)
		}
		seen[cu.Name] = true
		pats = append(pats, p)
	}
	for i, p := range pats {
		p.index = i
		p.replacement = strings.ReplaceAll(c.Replacement, "{pattern}", p.name)
	}
	return pats, nil
}

func (c *Config) checkMode() error {
	switch c.Mode {
	case ModeReplace:
		if c.Replacement == "" {
			c.Replacement = "[REDACTED]"
		}
		if strings.Contains(c.Replacement, "{hash}") {
			return errors.New("replacement: {hash} needs mode: hash")
		}
	case ModeHash:
		if c.Replacement == "" {
			c.Replacement = "[{pattern}:{hash}]"
		}
		switch {
		case len(c.HashKey.Reveal()) < 8:
			return errors.New("hash_key: mode hash needs a key of at least 8 bytes (32 random ones are best), e.g. hash_key: ${REDACT_KEY}")
		case c.HashBytes < 4 || c.HashBytes > 32:
			return fmt.Errorf("hash_bytes: %d is not between 4 and 32", c.HashBytes)
		case !strings.Contains(c.Replacement, "{hash}"):
			return errors.New("replacement: mode hash needs {hash} in the replacement")
		}
	default:
		return fmt.Errorf("mode: %q is neither replace nor hash", c.Mode)
	}
	return nil
}

func (cu Custom) compile() (*pattern, error) {
	if !customName.MatchString(cu.Name) || slices.Contains(Builtins, cu.Name) {
		return nil, fmt.Errorf("name: %q must be lowercase letters, digits and _, and not a built-in name", cu.Name)
	}
	if cu.Regex == "" {
		return nil, errors.New("regex: required")
	}
	re, err := regexp.Compile(cu.Regex)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	return regexPattern(cu.Name, re), nil
}
