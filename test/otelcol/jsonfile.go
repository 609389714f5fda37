package main

import (
	"context"
	"errors"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
)

type jsonFileConfig struct {
	Path string `mapstructure:"path"`
}

func (c *jsonFileConfig) Validate() error {
	if c.Path == "" {
		return errors.New("path is required")
	}
	return nil
}

func newJSONFileFactory() exporter.Factory {
	return exporter.NewFactory(component.MustNewType("jsonfile"),
		func() component.Config { return &jsonFileConfig{} },
		exporter.WithLogs(createJSONFile, component.StabilityLevelDevelopment))
}

func createJSONFile(_ context.Context, _ exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	return &jsonFile{path: cfg.(*jsonFileConfig).Path}, nil
}

// jsonFile appends each batch as one line of OTLP/JSON and syncs it, so a
// test reading the file sees only whole lines.
type jsonFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	m    plog.JSONMarshaler
}

func (j *jsonFile) Start(context.Context, component.Host) error {
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	j.f = f
	return err
}

func (j *jsonFile) Shutdown(context.Context) error {
	if j.f == nil {
		return nil
	}
	return j.f.Close()
}

func (j *jsonFile) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (j *jsonFile) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	b, err := j.m.MarshalLogs(ld)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return j.f.Sync()
}
