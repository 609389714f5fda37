package app

import (
	"log/slog"

	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/buffer/disk"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// bufferFactory builds the durable sink buffers (memory buffers are the
// pipeline's own). A disk buffer lives in <data_dir>/sinks/<id>/buffer.
func bufferFactory(log *slog.Logger) func(*config.Component, string, *telemetry.Component) (buffer.Buffer, error) {
	return func(c *config.Component, dir string, m *telemetry.Component) (buffer.Buffer, error) {
		b := c.Buffer
		opts := disk.Options{
			MaxSize:       int64(b.MaxSize),
			DropNewest:    b.WhenFull == "drop_newest",
			Fsync:         disk.FsyncPolicy(b.Fsync),
			FsyncInterval: b.FsyncInterval.D(),
		}
		return disk.Open(dir+"/buffer", opts, m, log.With("component", c.Name(), "buffer", "disk"))
	}
}
