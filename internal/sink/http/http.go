// Package http implements the http sink: each batch is one HTTP request
// whose body holds the events as NDJSON or a JSON array, optionally gzipped.
//
// The sink never retries by itself. It sends through httpout, whose status
// table maps the answer to the pipeline's outcomes: 2xx means delivered;
// 408, 425, 429, 5xx, timeouts and connection errors are transient and the
// pipeline sends the batch again after a backoff (at least Retry-After);
// any other answer (4xx, an unfollowed 3xx) rejects the batch for good,
// with the status and the start of the response body in the error.
// Credentials are only ever put in the Authorization header: they appear in
// no error, log line or printed config.
package http

import (
	"context"
	"crypto/tls"
	"fmt"
	nethttp "net/http"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/httpout"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("http",
		"Send batches of events as NDJSON or a JSON array to an HTTP endpoint.", New))
}

// Sink sends batches over HTTP. Write is never called concurrently, so the
// encoding buffers of the payload are reused from one batch to the next.
type Sink struct {
	req       httpout.Request
	jsonArray bool
	client    *httpout.Client
	payload   *httpout.Payload
	closeOnce sync.Once
}

// New creates an http sink from a validated config. TLS files are read
// here, so a bad certificate fails the configuration rather than the first
// request.
func New(cfg *Config, _ component.Deps) (component.Sink, error) {
	return newSink(cfg)
}

func newSink(cfg *Config) (*Sink, error) {
	p := cfg.parsed
	var tc *tls.Config
	if cfg.TLS != (config.ClientTLS{}) {
		var err error
		if tc, err = cfg.TLS.Config(); err != nil {
			return nil, fmt.Errorf("creating http sink: %w", err)
		}
	}
	payload, err := httpout.NewPayload(cfg.Compression == "gzip", gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("creating http sink: %w", err)
	}
	s := &Sink{
		req:       httpout.Request{Method: cfg.Method, URL: p.url, Header: buildHeader(cfg)},
		jsonArray: cfg.Encoding == "json_array",
		payload:   payload,
		client:    httpout.New(httpout.Options{TLS: tc, Timeout: cfg.Timeout.D(), Secrets: p.secrets}),
	}
	s.req.Host = s.req.Header.Get("Host")
	s.req.Header.Del("Host")
	if p.auth != "" {
		s.req.Header.Set("Authorization", p.auth)
	}
	return s, nil
}

func buildHeader(cfg *Config) nethttp.Header {
	h := nethttp.Header{}
	h.Set("User-Agent", "sluice")
	if cfg.Encoding == "json_array" {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	if cfg.Compression == "gzip" {
		h.Set("Content-Encoding", "gzip")
	}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	return h
}

// Write sends b as one request and maps the answer to an outcome.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	if err := s.payload.Finish(ctx, s.encode(b)); err != nil {
		return err
	}
	req := s.req
	req.Header = s.req.Header.Clone()
	if _, err := s.client.Send(ctx, &req, s.payload); err != nil {
		return fmt.Errorf("sending %d events: %w", len(b.Events), err)
	}
	return nil
}

// encode appends the events of b to the payload's buffer.
func (s *Sink) encode(b *event.Batch) []byte {
	raw := s.payload.Begin()
	if s.jsonArray {
		raw = append(raw, '[')
	}
	for i := range b.Events {
		if s.jsonArray && i > 0 {
			raw = append(raw, ',')
		}
		raw = codec.JSON.Encode(raw, &b.Events[i])
		if !s.jsonArray {
			raw = append(raw, '\n')
		}
	}
	if s.jsonArray {
		raw = append(raw, ']')
	}
	return raw
}

// Close releases idle connections. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(s.client.Close)
	return nil
}

var _ component.Sink = (*Sink)(nil)
