package app

import (
	"log/slog"
	"path/filepath"

	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/buffer/disk"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// bufferFactory builds the durable sink buffers (memory buffers are the
// pipeline's own). A disk buffer lives in <data_dir>/sinks/<id>/buffer.
func bufferFactory(log *slog.Logger) func(*config.Component, string, *telemetry.Component) (buffer.Buffer, error) {
	return func(c *config.Component, dir string, m *telemetry.Component) (buffer.Buffer, error) {
		return disk.Open(filepath.Join(dir, "buffer"), disk.OptionsFromConfig(c.Buffer), m,
			log.With("component", c.Name(), "buffer", "disk"))
	}
}
