package opentelemetry

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// grpcPeer is an in-process OTLP/gRPC receiver (pdata's service, as the
// Collector registers it) that records bodies or answers a set status.
type grpcPeer struct {
	plogotlp.UnimplementedGRPCServer
	mu     sync.Mutex
	msgs   []string
	answer error
	addr   string
}

func (p *grpcPeer) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.answer != nil {
		return plogotlp.NewExportResponse(), p.answer
	}
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				p.msgs = append(p.msgs, lrs.At(k).Body().AsString())
			}
		}
	}
	return plogotlp.NewExportResponse(), nil
}

func (p *grpcPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

func (p *grpcPeer) set(err error) {
	p.mu.Lock()
	p.answer = err
	p.mu.Unlock()
}

func newGRPCPeer(t *testing.T) *grpcPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &grpcPeer{addr: ln.Addr().String()}
	gs := grpc.NewServer()
	plogotlp.RegisterGRPCServer(gs, p)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	return p
}

func TestConformanceGRPC(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		p := newGRPCPeer(t)
		s := newSink(t, "http://"+p.addr, func(c *Config) { c.Protocol = "grpc" })
		return &sinktest.Instance{Sink: s, Received: p.received, Break: func() func() {
			p.set(status.Error(codes.Unavailable, "broken"))
			return func() { p.set(nil) }
		}}
	}})
}

// TestGRPCStatuses pins OTLP/gRPC's retry rules.
func TestGRPCStatuses(t *testing.T) {
	p := newGRPCPeer(t)
	s := newSink(t, "http://"+p.addr, func(c *Config) { c.Protocol = "grpc" })
	withInfo, _ := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)})
	for _, tc := range []struct {
		err    error
		reject bool
		after  time.Duration
	}{
		{status.Error(codes.Unavailable, "x"), false, 0},
		{status.Error(codes.Aborted, "x"), false, 0},
		{withInfo.Err(), false, 3 * time.Second},
		{status.Error(codes.ResourceExhausted, "x"), true, 0},
		{status.Error(codes.InvalidArgument, "x"), true, 0},
		{status.Error(codes.Unauthenticated, "x"), true, 0},
	} {
		p.set(tc.err)
		err := s.Write(t.Context(), batch("x"))
		var rej *component.RejectError
		if err == nil || errors.As(err, &rej) != tc.reject {
			t.Errorf("%v: got %v, want rejected=%v", tc.err, err, tc.reject)
		}
		var ra *component.RetryAfterError
		if tc.after > 0 && (!errors.As(err, &ra) || ra.After != tc.after) {
			t.Errorf("%v: RetryInfo delay not honoured: %v", tc.err, err)
		}
	}
}
