package app

import (
	"log/slog"

	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// bufferFactory builds the durable sink buffers; nil until one exists.
func bufferFactory(*slog.Logger) func(*config.Component, string, *telemetry.Component) (buffer.Buffer, error) {
	return nil
}
