package parse

import (
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser/combined"
	"github.com/sluice-log/sluice/internal/parser/grok"
	"github.com/sluice-log/sluice/internal/parser/json"
	"github.com/sluice-log/sluice/internal/parser/logfmt"
	"github.com/sluice-log/sluice/internal/parser/regex"
)

// parseFunc is one format's parser: it appends the fields of in to dst and
// may report the record's time (zero when the format has none). On error
// it returns dst unchanged. Fields may alias in.
type parseFunc func(dst event.Fields, in []byte) (event.Fields, time.Time, error)

// format builds a parseFunc from the config, with a first guess at how many
// fields a line yields.
type format func(c *Config) (parseFunc, int, error)

var formats = map[string]format{
	"json":            simple(json.Parse),
	"logfmt":          simple(logfmt.Parse),
	"nginx_combined":  combinedFormat(combined.Nginx),
	"apache_combined": combinedFormat(combined.Apache),
	"regex":           regexFormat,
	"grok":            grokFormat,
	"syslog":          syslogFormat,
}

// newParser builds the parser a checked config asks for.
func newParser(c *Config) (parseFunc, int, error) {
	return formats[c.Format](c)
}

func simple(parse func(event.Fields, []byte) (event.Fields, error)) format {
	return func(*Config) (parseFunc, int, error) {
		return func(dst event.Fields, in []byte) (event.Fields, time.Time, error) {
			f, err := parse(dst, in)
			return f, time.Time{}, err
		}, 8, nil
	}
}

func combinedFormat(fl combined.Flavor) format {
	return func(*Config) (parseFunc, int, error) {
		return func(dst event.Fields, in []byte) (event.Fields, time.Time, error) {
			return combined.Parse(dst, in, fl)
		}, combined.MaxFields, nil
	}
}

func regexFormat(c *Config) (parseFunc, int, error) {
	p, err := regex.Compile(c.Pattern)
	if err != nil {
		return nil, 0, err
	}
	return captures(p)
}

func grokFormat(c *Config) (parseFunc, int, error) {
	p, err := grok.Compile(c.Pattern, c.Patterns)
	if err != nil {
		return nil, 0, err
	}
	return captures(p)
}

func captures(p *regex.Parser) (parseFunc, int, error) {
	return func(dst event.Fields, in []byte) (event.Fields, time.Time, error) {
		f, err := p.Parse(dst, in)
		return f, time.Time{}, err
	}, len(p.Fields()), nil
}
