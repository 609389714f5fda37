package opentelemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/listener"
)

const (
	ctProtobuf = "application/x-protobuf"
	ctJSON     = "application/json"
)

type httpServer struct {
	srv  *http.Server
	done chan struct{} // closed when Serve returned
}

func (s *Source) serveHTTP(ctx context.Context, h *handler, ln net.Listener, done chan error) *httpServer {
	mux := http.NewServeMux()
	mux.Handle(s.cfg.Path, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: listener.BaseContext(ctx)}
	hs := &httpServer{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(hs.done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			done <- fmt.Errorf("http: %w", err)
		}
	}()
	return hs
}

func (hs *httpServer) shutdown(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = hs.srv.Shutdown(ctx)
	<-hs.done
}

// bufs holds request body buffers: a body is done with once decoded
// (pdata copies what it keeps), so its buffer serves the next request.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ServeHTTP answers POST Path as OTLP/HTTP defines: the response has the
// request's content type, and 503 asks the client to retry.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if r.Method != http.MethodPost {
		s.badReqs.Inc()
		w.Header().Set("Allow", "POST")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if s.cfg.Auth.Enabled() && !api.Authorized(r, s.cfg.Auth.Users, s.tokens) {
		s.badReqs.Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != ctProtobuf && ct != ctJSON {
		s.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: use %s or %s", ct, ctProtobuf, ctJSON))
		return
	}
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
	buf.Reset()
	status, err := s.readBody(buf, r)
	if errors.Is(err, syscall.ECONNRESET) {
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Warn("request body cut by a connection reset; the client got no answer", "remote", r.RemoteAddr, "error", err)
		return
	}
	if err != nil {
		s.refuse(w, r, status, err)
		return
	}
	req := plogotlp.NewExportRequest()
	if ct == ctJSON {
		err = req.UnmarshalJSON(buf.Bytes())
	} else {
		err = req.UnmarshalProto(buf.Bytes())
	}
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, fmt.Errorf("decoding OTLP %s: %w", ct, err))
		return
	}
	res, err := h.deliver(r.Context(), req.Logs())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	resp := plogotlp.NewExportResponse()
	if res.rejected > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(res.rejected)
		resp.PartialSuccess().SetErrorMessage(res.message)
	}
	var out []byte
	if ct == ctJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

func (s *Source) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.badReqs.Inc()
	s.deps.Metrics.Errors.Inc()
	s.deps.Logger.Warn("refusing OTLP request", "remote", r.RemoteAddr, "error", err)
	http.Error(w, err.Error(), status)
}

// readBody reads the body, gunzipped when it says so, into buf, bounded by
// max_body_size on both sides of decompression.
func (s *Source) readBody(buf *bytes.Buffer, r *http.Request) (int, error) {
	limit := int64(s.cfg.MaxBodySize)
	var in io.Reader = http.MaxBytesReader(nil, r.Body, limit)
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return readStatus(err, limit)
		}
		defer func() { _ = zr.Close() }()
		in = zr
	default:
		return http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q: use gzip or none", enc)
	}
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(in, limit+1))
	if err != nil {
		return readStatus(err, limit)
	}
	if n > limit {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes once decompressed", limit)
	}
	return 0, nil
}

func readStatus(err error, limit int64) (int, error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", limit)
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return 0, err
	}
	return http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
}
