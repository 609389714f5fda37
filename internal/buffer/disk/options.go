package disk

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// FsyncPolicy says when written records are made durable with fdatasync(2),
// and so when a pushed batch's ack token is released.
type FsyncPolicy string

const (
	// FsyncAlways syncs before releasing any ack. Pushes that arrive while
	// a sync runs share the next one (group commit).
	FsyncAlways FsyncPolicy = "always"
	// FsyncInterval syncs at most once per FsyncInterval and releases the
	// acks of the records that sync covered.
	FsyncInterval FsyncPolicy = "interval"
	// FsyncNever releases acks once records are written to the kernel. They
	// survive a crash or kill -9 of sluice, but not a power loss.
	FsyncNever FsyncPolicy = "never"
)

// Defaults for Options.
const (
	DefaultMaxSize           = 1 << 30
	DefaultSegmentSize       = 64 << 20
	DefaultFsyncInterval     = 100 * time.Millisecond
	DefaultWatermarkInterval = time.Second
	minSegmentSize           = 4 << 10
)

// Options configure a disk buffer.
type Options struct {
	// MaxSize bounds the bytes of records stored and not yet acknowledged
	// by the sink. Default 1GiB. Disk use can exceed it by up to one
	// segment, because space is freed a whole segment at a time.
	MaxSize int64
	// MaxEvents bounds the events stored and not yet acknowledged. Zero
	// (the default) means no bound.
	MaxEvents int
	// DropNewest drops a batch that does not fit (when_full: drop_newest)
	// instead of making Push wait (when_full: block).
	DropNewest bool
	// Fsync is the durability policy. Default always.
	Fsync FsyncPolicy
	// FsyncInterval is the sync period under FsyncInterval. Default 100ms.
	FsyncInterval time.Duration
	// SegmentSize is the size at which a new segment file is started.
	// Default 64MiB, or a quarter of MaxSize when that is smaller.
	SegmentSize int64
	// WatermarkInterval is how often the acknowledged position is saved.
	// Records acknowledged after the last save are delivered again after a
	// crash. Default 1s.
	WatermarkInterval time.Duration
}

// Defaults fills unset options.
func (o *Options) Defaults() {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Fsync == "" {
		o.Fsync = FsyncAlways
	}
	if o.FsyncInterval <= 0 {
		o.FsyncInterval = DefaultFsyncInterval
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = min(DefaultSegmentSize, max(o.MaxSize/4, minSegmentSize))
	}
	if o.WatermarkInterval <= 0 {
		o.WatermarkInterval = DefaultWatermarkInterval
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	var errs []error
	switch o.Fsync {
	case FsyncAlways, FsyncInterval, FsyncNever:
	default:
		errs = append(errs, fmt.Errorf("unknown fsync policy %q (want always, interval or never)", o.Fsync))
	}
	if o.MaxEvents < 0 {
		errs = append(errs, fmt.Errorf("max_events must not be negative, got %d", o.MaxEvents))
	}
	if o.SegmentSize < minSegmentSize {
		errs = append(errs, fmt.Errorf("segment size must be at least %d bytes, got %d", minSegmentSize, o.SegmentSize))
	}
	return errors.Join(errs...)
}

// OptionsFromConfig maps a sink's buffer section to Options. The config
// has no fsync keys yet, so those keep their defaults.
func OptionsFromConfig(b config.Buffer) Options {
	o := Options{MaxSize: int64(b.MaxSize), MaxEvents: b.MaxEvents, DropNewest: b.WhenFull == "drop_newest",
		Fsync: FsyncPolicy(b.Fsync), FsyncInterval: b.FsyncInterval.D(), SegmentSize: int64(b.SegmentSize)}
	o.Defaults()
	return o
}
