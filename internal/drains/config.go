package drains

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/drains/postgres"
	"github.com/sluice-log/sluice/internal/drainurl"
)

// Config is the top-level `drains` section (docs/drains.md). Its inputs,
// buffer and batch keys are the router's own, as for any sink; each drain
// gets its own buffer from the keys below.
type Config struct {
	// AppField names the attribute or field that identifies an event's
	// app. Default stream.
	AppField string `yaml:"app_field"`
	// Static maps an app to the drain URLs its events go to. These routes
	// cannot be removed through the API.
	Static map[string][]string `yaml:"static"`
	// Unrouted is a drain URL that receives the events of apps without a
	// route. Default none: such events are only counted.
	Unrouted string `yaml:"unrouted"`
	// MaxEvents bounds each drain's own memory buffer. When it is full the
	// oldest events are dropped and counted for that drain alone, so a
	// dead drain never holds back the router or the other drains.
	// Default 10000.
	MaxEvents int `yaml:"max_events"`
	// BatchEvents is the most events sent to a drain in one write.
	// Default 500.
	BatchEvents int `yaml:"batch_events"`
	// Timeout bounds one write to a drain (it sets the drain sink's own
	// timeout), so a receiver that accepts and never answers is given up
	// on and retried. Default 10s.
	Timeout config.Duration `yaml:"timeout"`
	// MaxBackoff caps the wait between retries of a failing drain; retries
	// start at 100ms and double. Default 10s.
	MaxBackoff config.Duration `yaml:"max_backoff"`
	// Postgres, when its url is set, adds the routes of a drains table in
	// logtrain's schema, followed with LISTEN/NOTIFY.
	Postgres Postgres `yaml:"postgres"`
	// FlushTimeout bounds how long a drain whose last route went away may
	// keep delivering what it holds before it closes. Default 5s.
	FlushTimeout config.Duration `yaml:"flush_timeout"`
}

// Postgres is the drains table datasource (docs/drains.md).
type Postgres struct {
	// URL is a libpq connection URL or DSN, e.g.
	// postgres://sluice:${PGPASSWORD}@db.internal:5432/routes. The table
	// drains and its triggers are created if missing. Default: none.
	URL config.URL `yaml:"url"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.AppField = "stream"
	c.MaxEvents = 10000
	c.BatchEvents = 500
	c.Timeout = config.Duration(10 * time.Second)
	c.MaxBackoff = config.Duration(10 * time.Second)
	c.FlushTimeout = config.Duration(5 * time.Second)
}

// DefaultBatchTimeout hands events to the router within 20ms: routing is
// only pushing into the drains' queues, so waiting for a fuller batch
// would only delay route changes and delivery (component.BatchTimeoutDefaulter).
func (c *Config) DefaultBatchTimeout() time.Duration { return 20 * time.Millisecond }

// Validate checks the limits and that every static drain URL names a sink
// this binary can build with valid settings.
func (c *Config) Validate() error {
	switch {
	case c.AppField == "":
		return errors.New("app_field must not be empty")
	case c.MaxEvents < 1:
		return errors.New("max_events must be at least 1")
	case c.BatchEvents < 1:
		return errors.New("batch_events must be at least 1")
	case c.Timeout <= 0 || c.MaxBackoff <= 0 || c.FlushTimeout <= 0:
		return errors.New("timeout, max_backoff and flush_timeout must be positive")
	}
	apps := make([]string, 0, len(c.Static))
	for app := range c.Static {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		if app == "" {
			return errors.New("static: app name must not be empty")
		}
		for _, u := range c.Static[app] {
			if _, err := c.sinkConfig(u); err != nil {
				return fmt.Errorf("static.%s: %w", app, err)
			}
		}
	}
	if c.Unrouted != "" {
		if _, err := c.sinkConfig(c.Unrouted); err != nil {
			return fmt.Errorf("unrouted: %w", err)
		}
	}
	if c.Postgres.URL != "" {
		if err := postgres.CheckURL(string(c.Postgres.URL)); err != nil {
			return fmt.Errorf("postgres: url: %w", err)
		}
	}
	return nil
}

// sinkSpec is a drain URL resolved to the sink that delivers it.
type sinkSpec struct {
	spec component.Spec
	opts any
}

// sinkConfig parses a drain URL into the config of the sink type it maps
// to, as if `url:` had been written in a sink section, with this section's
// timeout. An http(s) drain gets the http sink's default, NDJSON in the
// json encoding.
func (c *Config) sinkConfig(raw string) (*sinkSpec, error) {
	d, err := drainurl.Parse(raw)
	if err != nil {
		return nil, err
	}
	spec, ok := component.Lookup(component.KindSink, d.Sink)
	if !ok {
		return nil, fmt.Errorf("drain %s: sink type %q is not compiled into this binary", d, d.Sink)
	}
	opts := spec.NewConfig()
	var n yaml.Node
	n.Kind, n.Tag = yaml.MappingNode, "!!map"
	n.Content = []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "url"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: raw},
	}
	if err := n.Load(opts, yaml.WithKnownFields()); err != nil {
		return nil, fmt.Errorf("drain %s: %w", d, err)
	}
	setTimeout(opts, c.Timeout)
	if v, ok := opts.(component.Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("drain %s: %w", d, err)
		}
	}
	return &sinkSpec{spec: spec, opts: opts}, nil
}

var _ component.BatchTimeoutDefaulter = (*Config)(nil)

// setTimeout sets the `timeout` field of a sink config, when it has one.
func setTimeout(opts any, d config.Duration) {
	v := reflect.ValueOf(opts).Elem()
	if v.Kind() != reflect.Struct {
		return
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Tag.Get("yaml") == "timeout" && f.Type == reflect.TypeFor[config.Duration]() {
			v.Field(i).Set(reflect.ValueOf(d))
		}
	}
}
