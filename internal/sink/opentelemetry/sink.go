// Package opentelemetry implements the opentelemetry sink: each batch is
// one OTLP/HTTP protobuf request (ExportLogsServiceRequest), or one
// OTLP/gRPC Export call with protocol: grpc, its records grouped by
// resource and scope, gzipped by default.
//
// Events map onto records as internal/otlp documents, the reverse of the
// opentelemetry source, so OTLP passes through sluice unchanged. Answers
// follow the OTLP/HTTP specification: 2xx is delivered, with a partial
// success's rejected records counted and logged (OTLP does not say which
// ones, so they cannot be retried or dead-lettered one by one); 429, 502,
// 503 and 504 and connection errors are transient and honour Retry-After;
// every other answer rejects the batch (gRPC: see grpcOutcome).
package opentelemetry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/httpout"
	"github.com/sluice-log/sluice/internal/otlp"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("opentelemetry",
		"Send events as OpenTelemetry logs over OTLP/HTTP (protobuf).", New))
}

// maxResponse bounds how much of a success response is read for its
// partial success.
const maxResponse = 64 << 10

// Sink sends batches over OTLP/HTTP. Write is never called concurrently.
type Sink struct {
	req       httpout.Request
	client    *httpout.Client
	grpc      *grpcSender // instead of client, with protocol: grpc
	payload   *httpout.Payload
	enc       otlp.Encoder
	deps      component.Deps
	rejected  prometheus.Counter
	badIDs    prometheus.Counter
	closeOnce sync.Once
}

// New creates an opentelemetry sink from a validated config.
func New(cfg *Config, d component.Deps) (component.Sink, error) {
	var tc *tls.Config
	if cfg.TLS != (config.ClientTLS{}) {
		var err error
		if tc, err = cfg.TLS.Config(); err != nil {
			return nil, fmt.Errorf("creating opentelemetry sink: %w", err)
		}
	}
	payload, err := httpout.NewPayload(cfg.Compression == "gzip", gzip.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("creating opentelemetry sink: %w", err)
	}
	h := http.Header{}
	h.Set("User-Agent", "sluice")
	h.Set("Content-Type", "application/x-protobuf")
	if payload.Gzip() {
		h.Set("Content-Encoding", "gzip")
	}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	var secrets []string
	if cfg.Token != "" {
		h.Set("Authorization", "Bearer "+cfg.Token.Reveal())
		secrets = append(secrets, cfg.Token.Reveal())
	}
	s := &Sink{
		req:     httpout.Request{URL: cfg.url, Header: h, ReadBody: maxResponse},
		client:  httpout.New(httpout.Options{TLS: tc, Timeout: cfg.Timeout.D(), Secrets: secrets}),
		payload: payload,
		deps:    d,
	}
	if cfg.Protocol == "grpc" {
		if s.grpc, err = newGRPCSender(cfg, tc); err != nil {
			return nil, fmt.Errorf("creating opentelemetry sink: %w", err)
		}
	}
	if d.Metrics != nil {
		s.rejected = d.Metrics.Counter("opentelemetry_rejected_log_records_total",
			"Log records the OTLP receiver reported rejected in a partial success.", nil)
		s.badIDs = d.Metrics.Counter("opentelemetry_invalid_ids_total",
			"trace_id or span_id fields left out because they were not hex of the right length.", nil)
	}
	return s, nil
}

// Write sends b as one request and maps the answer to an outcome.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	s.enc.Invalid = 0
	req := plogotlp.NewExportRequestFromLogs(s.enc.Encode(b.Events))
	if s.enc.Invalid > 0 && s.badIDs != nil {
		s.badIDs.Add(float64(s.enc.Invalid))
	}
	if s.grpc != nil {
		resp, err := s.grpc.send(ctx, req)
		if err != nil {
			return fmt.Errorf("sending %d events: %w", len(b.Events), err)
		}
		s.countPartial(resp.PartialSuccess(), len(b.Events))
		return nil
	}
	raw, err := req.MarshalProto()
	if err != nil {
		return component.Rejected(fmt.Errorf("encoding %d events: %w", len(b.Events), err))
	}
	buf := append(s.payload.Begin(), raw...)
	if err := s.payload.Finish(ctx, buf); err != nil {
		return err
	}
	r := s.req
	r.Header = s.req.Header.Clone()
	resp, err := s.client.Send(ctx, &r, s.payload)
	if err != nil {
		return fmt.Errorf("sending %d events: %w", len(b.Events), otlpOutcome(err))
	}
	s.partial(resp, len(b.Events))
	return nil
}

// otlpOutcome narrows httpout's table to OTLP's: only 429, 502, 503 and
// 504 are retryable answers; 408, 425, 500, 501 and the other 5xx are
// final (connection errors stay transient).
func otlpOutcome(err error) error {
	var se *httpout.StatusError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return err
	}
	var rej *component.RejectError
	if errors.As(err, &rej) {
		return err
	}
	return component.Rejected(err)
}

// partial counts the records a partial success reports rejected.
func (s *Sink) partial(resp *httpout.Response, n int) {
	if resp == nil || len(resp.Body) == 0 {
		return
	}
	er := plogotlp.NewExportResponse()
	var err error
	if resp.Header.Get("Content-Type") == "application/json" {
		err = er.UnmarshalJSON(resp.Body)
	} else {
		err = er.UnmarshalProto(resp.Body)
	}
	if err != nil {
		s.deps.Logger.Debug("OTLP response not understood; taking the batch as delivered", "error", err)
		return
	}
	s.countPartial(er.PartialSuccess(), n)
}

func (s *Sink) countPartial(ps plogotlp.ExportPartialSuccess, n int) {
	if ps.RejectedLogRecords() <= 0 && ps.ErrorMessage() == "" {
		return
	}
	if s.rejected != nil {
		s.rejected.Add(float64(min(ps.RejectedLogRecords(), int64(n))))
	}
	s.deps.Logger.Warn("OTLP receiver rejected log records", "rejected", ps.RejectedLogRecords(),
		"of", n, "message", httpout.Scrub([]byte(ps.ErrorMessage()), nil))
}

// Close releases idle connections. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.client.Close()
		if s.grpc != nil {
			s.grpc.close()
		}
	})
	return nil
}

var _ component.Sink = (*Sink)(nil)
