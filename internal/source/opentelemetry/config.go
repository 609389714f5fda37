package opentelemetry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

// Config configures the opentelemetry source.
type Config struct {
	// Address is host:port of the OTLP/HTTP listener (POST Path). Default
	// 127.0.0.1:4318; "" turns HTTP off.
	Address string `yaml:"address"`
	// GRPCAddress is host:port of the OTLP/gRPC listener
	// (opentelemetry.proto.collector.logs.v1.LogsService/Export).
	// Default 127.0.0.1:4317; "" turns gRPC off.
	GRPCAddress string `yaml:"grpc_address"`
	// Path is the URL path of OTLP/HTTP logs. Default /v1/logs.
	Path string `yaml:"path"`
	// MaxBodySize bounds a request, after gzip decompression: larger
	// HTTP bodies get 413, larger gRPC messages ResourceExhausted.
	// Default 10MiB.
	MaxBodySize config.ByteSize `yaml:"max_body_size"`
	// Stream is the stream of the events. Default "opentelemetry".
	Stream string `yaml:"stream"`
	// Timeout bounds how long a request waits for its events to be
	// acknowledged before it is answered 503 / Unavailable. Default 60s.
	Timeout config.Duration `yaml:"timeout"`
	// TLS serves both listeners over TLS when cert and key are set;
	// client_ca requires client certificates.
	TLS config.ServerTLS `yaml:"tls"`
	// Auth requires a bearer token (or a basic-auth user) on every
	// request, HTTP and gRPC alike (the authorization header/metadata).
	Auth config.Auth `yaml:"auth"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Address = "127.0.0.1:4318"
	c.GRPCAddress = "127.0.0.1:4317"
	c.Path = "/v1/logs"
	c.MaxBodySize = 10 << 20
	c.Stream = "opentelemetry"
	c.Timeout = config.Duration(60 * time.Second)
}

// Validate implements component.Validator.
func (c *Config) Validate() error {
	if c.Address == "" && c.GRPCAddress == "" {
		return errors.New("address and grpc_address are both empty: nothing to listen on")
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("path must start with /, not %q", c.Path)
	}
	if c.MaxBodySize <= 0 {
		return errors.New("max_body_size must be positive")
	}
	if c.TLS.Enabled() && (c.TLS.Cert == "" || c.TLS.Key == "") {
		return errors.New("tls needs both cert and key")
	}
	return nil
}
