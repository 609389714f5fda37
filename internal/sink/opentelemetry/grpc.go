package opentelemetry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluice-log/sluice/internal/component"
)

// grpcSender sends requests over OTLP/gRPC (LogsService/Export).
type grpcSender struct {
	cc      *grpc.ClientConn
	client  plogotlp.GRPCClient
	md      metadata.MD
	opts    []grpc.CallOption
	timeout time.Duration
}

// newGRPCSender dials lazily: a collector that is down is a transient
// error of the first Write, not a failed start.
func newGRPCSender(cfg *Config, tc *tls.Config) (*grpcSender, error) {
	u, err := url.Parse(string(cfg.URL))
	if err != nil {
		return nil, fmt.Errorf("parsing url: %w", err)
	}
	creds := insecure.NewCredentials()
	if u.Scheme == "https" {
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(tc)
	}
	cc, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(creds), grpc.WithUserAgent("sluice"))
	if err != nil {
		return nil, fmt.Errorf("creating gRPC client for %s: %w", u.Host, err)
	}
	g := &grpcSender{cc: cc, client: plogotlp.NewGRPCClient(cc), md: metadata.MD{}, timeout: cfg.Timeout.D()}
	for k, v := range cfg.Headers {
		g.md.Set(k, v)
	}
	if cfg.Token != "" {
		g.md.Set("authorization", "Bearer "+cfg.Token.Reveal())
	}
	if cfg.Compression == "gzip" {
		g.opts = append(g.opts, grpc.UseCompressor(grpcgzip.Name))
	}
	return g, nil
}

func (g *grpcSender) send(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(ctx, g.md), g.timeout)
	defer cancel()
	resp, err := g.client.Export(ctx, req, g.opts...)
	if err != nil {
		return resp, grpcOutcome(err)
	}
	return resp, nil
}

// grpcOutcome applies OTLP/gRPC's retry rules: Canceled, DeadlineExceeded,
// Aborted, OutOfRange, Unavailable and DataLoss are transient, and so is
// ResourceExhausted when the server sent RetryInfo (whose delay is
// honoured like Retry-After); every other status rejects the batch.
func grpcOutcome(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var delay time.Duration
	hasInfo := false
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			hasInfo = true
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	err = fmt.Errorf("server answered %s: %s", st.Code(), st.Message())
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		return component.RetryAfter(delay, err)
	case codes.ResourceExhausted:
		if hasInfo {
			return component.RetryAfter(delay, err)
		}
	}
	return component.Rejected(err)
}

func (g *grpcSender) close() { _ = g.cc.Close() }
