// Package config loads sluice's YAML configuration: it interpolates
// environment variables, decodes every component strictly into the typed
// config its registered Spec provides, and checks the component graph.
//
// Every problem is reported with file:line:column, the component it concerns
// and, where possible, a hint; all problems are collected, not just the
// first. The result is a Config whose components carry their decoded options
// and a hash of their settings, so a reload can tell which ones changed.
package config

import (
	"github.com/sluice-log/sluice/internal/component"
)

// DefaultDataDir is data_dir when a config file does not set it.
const DefaultDataDir = "/var/lib/sluice"

// Config is a loaded, validated configuration.
type Config struct {
	// File is the path the config was read from, for messages.
	File string
	// DataDir holds checkpoints and disk buffers: DefaultDataDir when the
	// file has no data_dir (the embedded default config sets
	// ${SLUICE_DATA_DIR:-/var/tmp/sluice}).
	DataDir string
	// API is the HTTP listener for /metrics, /healthz and later the UI;
	// nil when the config has no api section.
	API *API
	// Log configures sluice's own log.
	Log Log
	// Metrics holds the global settings of log-derived metrics.
	Metrics Metrics
	// Components lists sources, then transforms, then sinks, each sorted by
	// ID, then metrics rules (sinks of type metrics_rule) in file order.
	Components []*Component
	// Warnings are problems that do not stop sluice but probably are
	// mistakes: a source nothing reads from, a config without sinks.
	Warnings []*Error
}

// Component is one configured source, transform or sink.
type Component struct {
	ID   string
	Kind component.Kind
	Type string
	// Inputs are the resolved upstream references: component IDs, or
	// "id.output" for a named output of a transform. Globs are expanded.
	Inputs []string
	// Acknowledgements (sources): wait for end-to-end acknowledgement.
	Acknowledgements bool
	// Buffer, Batch and Retry apply to sinks.
	Buffer Buffer
	Batch  Batch
	Retry  Retry
	// Options is the component's own typed config (a pointer from its Spec).
	Options any
	// Hash identifies the component's whole configuration; equal hashes mean
	// a reload can keep the running instance.
	Hash      string
	Line, Col int

	inLine, inCol int    // position of `inputs`, for graph errors
	name          string // Name, when not kind.id (metrics rules)
}

// Name returns "sources.id" style, as used in messages; a metrics rule is
// "metrics.rules.<name>".
func (c *Component) Name() string {
	if c.name != "" {
		return c.name
	}
	return c.Kind.Plural() + "." + c.ID
}

// API configures the HTTP listener.
type API struct {
	// Listen is host:port, or unix:///path for a unix socket. Default 127.0.0.1:9580.
	Listen string `yaml:"listen"`
	// TLS enables HTTPS when cert and key are set.
	TLS ServerTLS `yaml:"tls"`
	// Auth protects every endpoint except /healthz.
	Auth Auth `yaml:"auth"`
	// AllowInsecure lets the api listen on a non-loopback address without
	// auth; refused otherwise.
	AllowInsecure bool `yaml:"allow_insecure"`
	// Sessions are the web UI's logins (POST /api/v1/login).
	Sessions Sessions `yaml:"sessions"`
}

// Sessions configures login sessions on the api listener.
type Sessions struct {
	// TTL is how long a session lasts after login. Default 12h.
	TTL Duration `yaml:"ttl"`
}

// ServerTLS is the TLS setup of a listener.
type ServerTLS struct {
	// Cert and Key are PEM files; both or neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ClientCA, when set, requires clients to present a certificate signed by it.
	ClientCA string `yaml:"client_ca"`
}

// Enabled reports whether TLS is configured.
func (t ServerTLS) Enabled() bool { return t.Cert != "" || t.Key != "" }

// Auth lists who may use a listener.
type Auth struct {
	// Users maps user names to bcrypt password hashes, for HTTP basic auth.
	Users map[string]Secret `yaml:"users"`
	// Tokens are accepted as "Authorization: Bearer <token>".
	Tokens []Secret `yaml:"tokens"`
}

// Enabled reports whether any credential is configured.
func (a Auth) Enabled() bool { return len(a.Users) > 0 || len(a.Tokens) > 0 }

// Log configures sluice's own log output (on stderr).
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// Buffer is a sink's input buffer (docs/buffers.md).
type Buffer struct {
	// Type is memory (default) or disk.
	Type string `yaml:"type"`
	// MaxEvents bounds the buffer by event count. Default 10000 for
	// memory, no bound (0) for disk.
	MaxEvents int `yaml:"max_events"`
	// MaxSize bounds the buffer in bytes. Default 64MiB for memory.
	MaxSize ByteSize `yaml:"max_size"`
	// WhenFull is block (default: backpressure to the sources) or
	// drop_newest (new events are dropped and counted).
	WhenFull string `yaml:"when_full"`
	// Fsync is the disk buffer's durability policy: always (default; a
	// batch is acknowledged upstream once fsynced, syncs are shared by
	// concurrent batches), interval, or never (survives a crash of sluice,
	// not of the machine).
	Fsync string `yaml:"fsync"`
	// FsyncInterval is the sync period with fsync: interval. Default 100ms.
	FsyncInterval Duration `yaml:"fsync_interval"`
	// SegmentSize is the size of a disk buffer's segment files. Default
	// 64MiB, or a quarter of max_size when that is smaller.
	SegmentSize ByteSize `yaml:"segment_size"`
}

// Batch says how a sink groups events into one write.
type Batch struct {
	// MaxEvents per write. Default 1000.
	MaxEvents int `yaml:"max_events"`
	// MaxBytes per write. Default 1MiB.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// Timeout is how long a partial batch waits for more events. Default 1s.
	Timeout Duration `yaml:"timeout"`
}

// Retry is how a sink retries transient failures. Retries never give up:
// events are never dropped on a transient error (docs/buffers.md).
type Retry struct {
	// InitialBackoff is the first wait. Default 500ms.
	InitialBackoff Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the exponential growth. Default 30s.
	MaxBackoff Duration `yaml:"max_backoff"`
}
