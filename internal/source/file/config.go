package file

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Config is the configuration of the file source.
type Config struct {
	// Include lists the glob patterns (filepath.Match syntax: *, ?, [...])
	// of the files to read. Required.
	Include []string `yaml:"include"`
	// Exclude lists glob patterns of paths to skip even when included.
	Exclude []string `yaml:"exclude"`
	// ReadFrom is where a file without a checkpoint that exists when the
	// source first starts is read from: "end" (default) or "beginning".
	// Files that appear later are always read from the beginning, and
	// files with a checkpoint resume from it.
	ReadFrom string `yaml:"read_from"`
	// GlobInterval is how often the include patterns are expanded to find
	// new, renamed and deleted files. Default 1s.
	GlobInterval config.Duration `yaml:"glob_interval"`
	// PollInterval is how often known files are checked for new data and
	// truncation when no directory notification arrives. Default 250ms.
	PollInterval config.Duration `yaml:"poll_interval"`
	// WatchDirectories asks the kernel (inotify) to wake the source when a
	// file in a watched directory changes, for lower latency than polling.
	// One watch per directory, never per file. Default true.
	WatchDirectories bool `yaml:"watch_directories"`
	// FingerprintBytes is how many bytes at the start of a file identify
	// its content, together with its device and inode. Default 256.
	FingerprintBytes int `yaml:"fingerprint_bytes"`
	// MaxLineBytes is the longest line kept whole, without its newline.
	// Default 256KiB.
	MaxLineBytes config.ByteSize `yaml:"max_line_bytes"`
	// LongLines says what happens to a longer line: "split" (default) into
	// pieces of max_line_bytes, or "truncate" to its first max_line_bytes.
	LongLines string `yaml:"long_lines"`
	// Multiline joins the lines of one record (a stack trace) into one
	// event. Off unless start_pattern is set.
	Multiline Multiline `yaml:"multiline"`
	// MaxOpenFiles bounds the file descriptors the source keeps open.
	// Idle files are closed and reopened when they grow. Default 1024.
	MaxOpenFiles int `yaml:"max_open_files"`
	// RotateWait is how long a file that was renamed away or deleted is
	// kept open after its last new data, in case its writer still appends
	// to it. Default 5s.
	RotateWait config.Duration `yaml:"rotate_wait"`
	// BatchLines is the most events emitted in one batch. Default 1000.
	BatchLines int `yaml:"batch_lines"`
	// CheckpointInterval is the longest time between checkpoint writes
	// while acknowledgements arrive. Default 1s.
	CheckpointInterval config.Duration `yaml:"checkpoint_interval"`
	// FileField, when set, adds a field of that name holding the file's
	// path to every event (the path is always the event's stream). Default
	// "" (no field).
	FileField string `yaml:"file_field"`
}

// Multiline configures the joining of continuation lines.
type Multiline struct {
	// StartPattern is a regular expression (Go RE2 syntax) matching the
	// first line of a record; lines that do not match are appended to the
	// current record, joined with "\n". Empty disables joining.
	StartPattern string `yaml:"start_pattern"`
	// Timeout flushes a record when no line arrived for this long.
	// Default 1s.
	Timeout config.Duration `yaml:"timeout"`
	// MaxLines flushes a record when it has this many lines. Default 500.
	MaxLines int `yaml:"max_lines"`
	// MaxBytes flushes a record before it would grow past this size.
	// Default 1MiB.
	MaxBytes config.ByteSize `yaml:"max_bytes"`

	start *regexp.Regexp // StartPattern, compiled by Validate
}

// Defaults sets the defaults.
func (c *Config) Defaults() {
	c.ReadFrom = "end"
	c.GlobInterval = config.Duration(time.Second)
	c.PollInterval = config.Duration(250 * time.Millisecond)
	c.WatchDirectories = true
	c.FingerprintBytes = 256
	c.MaxLineBytes = 256 << 10
	c.LongLines = "split"
	c.MaxOpenFiles = 1024
	c.RotateWait = config.Duration(5 * time.Second)
	c.BatchLines = 1000
	c.CheckpointInterval = config.Duration(time.Second)
	c.Multiline = Multiline{
		Timeout:  config.Duration(time.Second),
		MaxLines: 500,
		MaxBytes: 1 << 20,
	}
}

// Validate checks the config and compiles multiline.start_pattern for New.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Include) == 0 {
		errs = append(errs, errors.New("include: at least one glob pattern is required"))
	}
	for _, p := range append(append([]string{}, c.Include...), c.Exclude...) {
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("bad glob pattern %q: %w", p, err))
		}
	}
	if c.ReadFrom != "beginning" && c.ReadFrom != "end" {
		errs = append(errs, fmt.Errorf("read_from: %q is not beginning or end", c.ReadFrom))
	}
	if c.LongLines != "split" && c.LongLines != "truncate" {
		errs = append(errs, fmt.Errorf("long_lines: %q is not split or truncate", c.LongLines))
	}
	errs = append(errs, positive("fingerprint_bytes", int64(c.FingerprintBytes)),
		positive("max_line_bytes", int64(c.MaxLineBytes)), positive("max_open_files", int64(c.MaxOpenFiles)),
		positive("batch_lines", int64(c.BatchLines)), positive("glob_interval", int64(c.GlobInterval)),
		positive("poll_interval", int64(c.PollInterval)), positive("checkpoint_interval", int64(c.CheckpointInterval)))
	if c.FingerprintBytes > 1<<20 {
		errs = append(errs, errors.New("fingerprint_bytes: at most 1MiB"))
	}
	c.Multiline.start = nil
	if c.Multiline.StartPattern != "" {
		re, err := regexp.Compile(c.Multiline.StartPattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("multiline.start_pattern: %w", err))
		}
		c.Multiline.start = re
		errs = append(errs, positive("multiline.timeout", int64(c.Multiline.Timeout)),
			positive("multiline.max_lines", int64(c.Multiline.MaxLines)),
			positive("multiline.max_bytes", int64(c.Multiline.MaxBytes)))
	}
	return errors.Join(errs...)
}

func positive(name string, v int64) error {
	if v <= 0 {
		return fmt.Errorf("%s: must be greater than zero", name)
	}
	return nil
}
