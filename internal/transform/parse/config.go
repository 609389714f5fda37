package parse

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-log/sluice/internal/event"
)

// Config is the parse transform's configuration.
type Config struct {
	// Format is the input format: json, logfmt, syslog, regex, grok, nginx_combined
	// or apache_combined. Required.
	Format string `yaml:"format"`
	// Field is the field whose text is parsed. Default message (the raw
	// line); any other field must hold a string.
	Field string `yaml:"field"`
	// Target, when set, puts all parsed fields under this one field as a
	// nested object. Default empty: parsed fields go to the top level, where
	// the names message, host, stream and timestamp set the event's own
	// attributes.
	Target string `yaml:"target"`
	// Pattern is the regular expression with named groups (format regex) or
	// the grok pattern (format grok), in Go regexp syntax. Required for
	// those two, refused for the others. `.` does not match a newline, so
	// on a multi-line record (a stack trace joined by the file source's
	// multiline option) `.*` stops at the end of the first line; start the
	// pattern with `(?s)` to let `.` match newlines too.
	Pattern string `yaml:"pattern"`
	// Patterns are extra grok definitions, name to pattern, which may
	// refer to each other and override the standard ones (format grok only).
	Patterns map[string]string `yaml:"patterns"`
	// OnError says what happens to an event that fails to parse: keep
	// (default; it passes on unchanged), drop (it is removed and counted)
	// or tag (it passes on with the field parse_error holding the reason).
	OnError string `yaml:"on_error"`

	parse parseFunc // built by Validate
	hint  int       // fields the parser expects per event
}

// The on_error choices.
const (
	OnErrorKeep = "keep"
	OnErrorDrop = "drop"
	OnErrorTag  = "tag"
)

// ErrorField is the field on_error: tag sets.
const ErrorField = "parse_error"

// Defaults sets field to message and on_error to keep.
func (c *Config) Defaults() {
	c.Field = event.KeyMessage
	c.OnError = OnErrorKeep
}

// Validate checks the options and compiles the pattern, so a bad pattern
// is reported when the config is loaded.
func (c *Config) Validate() error {
	if err := c.check(); err != nil {
		return err
	}
	var err error
	c.parse, c.hint, err = newParser(c)
	return err
}

func (c *Config) check() error {
	if _, ok := formats[c.Format]; !ok {
		if c.Format == "" {
			return fmt.Errorf("missing format; use one of %s", formatList())
		}
		return fmt.Errorf("unknown format %q; use one of %s", c.Format, formatList())
	}
	hasPattern := c.Format == "regex" || c.Format == "grok"
	switch {
	case hasPattern && c.Pattern == "":
		return fmt.Errorf("format %s needs a pattern", c.Format)
	case !hasPattern && c.Pattern != "":
		return fmt.Errorf("pattern applies only to formats regex and grok, not %s", c.Format)
	case c.Format != "grok" && len(c.Patterns) > 0:
		return fmt.Errorf("patterns applies only to format grok, not %s", c.Format)
	case c.Field == "":
		return errors.New("field must not be empty")
	}
	switch c.Target {
	case event.KeyMessage, event.KeyHost, event.KeyStream, event.KeyTimestamp:
		return fmt.Errorf("target %q is an event attribute, not a field; pick another name", c.Target)
	}
	switch c.OnError {
	case OnErrorKeep, OnErrorDrop, OnErrorTag:
		return nil
	}
	return fmt.Errorf("unknown on_error %q; use keep, drop or tag", c.OnError)
}

func formatList() string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
