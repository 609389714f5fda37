package opentelemetry

import (
	"context"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // clients may gzip their requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/sluice-log/sluice/internal/api"
)

// grpcLogs serves LogsService/Export.
type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	h *handler
}

func (s *Source) serveGRPC(h *handler, ln net.Listener, done chan error) *grpc.Server {
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(int(s.cfg.MaxBodySize)), grpc.StatsHandler(&badCalls{s: s})}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	gs := grpc.NewServer(opts...)
	plogotlp.RegisterGRPCServer(gs, &grpcLogs{h: h})
	go func() {
		if err := gs.Serve(ln); err != nil {
			done <- err
		}
	}()
	return gs
}

// badCalls counts calls that gRPC itself refused before Export saw them:
// a message that does not decode or is over max_body_size.
type badCalls struct{ s *Source }

func (b *badCalls) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (b *badCalls) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (b *badCalls) HandleConn(context.Context, stats.ConnStats) {}

func (b *badCalls) HandleRPC(_ context.Context, rs stats.RPCStats) {
	end, ok := rs.(*stats.End)
	if !ok || end.Error == nil {
		return
	}
	switch status.Code(end.Error) {
	case codes.Internal, codes.InvalidArgument, codes.ResourceExhausted, codes.Unimplemented:
		b.s.badReqs.Inc()
		b.s.deps.Metrics.Errors.Inc()
		b.s.deps.Logger.Warn("refusing OTLP/gRPC call", "error", end.Error)
	}
}

// stopGRPC lets the calls in flight finish for up to grace, then ends them.
func stopGRPC(gs *grpc.Server, grace time.Duration) {
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-stopped:
	case <-t.C:
		gs.Stop()
		<-stopped
	}
}

// Export answers as OTLP/gRPC defines: Unavailable asks the client to
// retry, a partial success counts what was refused for good.
func (g *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	s := g.h.s
	if s.cfg.Auth.Enabled() && !g.authorized(ctx) {
		s.badReqs.Inc()
		return plogotlp.NewExportResponse(), status.Error(codes.Unauthenticated, "unauthorized")
	}
	// The gRPC context ends with the call; Run's context is h.run.
	res, err := g.h.deliver(ctx, req.Logs())
	if err != nil {
		return plogotlp.NewExportResponse(), status.Error(codes.Unavailable, err.Error())
	}
	resp := plogotlp.NewExportResponse()
	if res.rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(res.rejected)
		resp.PartialSuccess().SetErrorMessage(res.message)
	}
	return resp, nil
}

// authorized checks the authorization metadata the way the HTTP listener
// checks the header (constant-time token comparison, bcrypt users).
func (g *grpcLogs) authorized(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) != 1 {
		return false
	}
	r := &http.Request{Header: http.Header{"Authorization": vals}}
	return api.Authorized(r, g.h.s.cfg.Auth.Users, g.h.s.tokens)
}
