// Package http implements the http sink: each batch is one HTTP request
// whose body holds the events as NDJSON or a JSON array, optionally gzipped.
//
// The sink never retries by itself. It maps the answer to the pipeline's
// outcomes: 2xx means delivered; 408, 429, 5xx, timeouts and connection
// errors are transient and the pipeline sends the batch again after a
// backoff; any other answer (4xx, an unfollowed 3xx) rejects the batch for
// good, with the status and the start of the response body in the error.
// Credentials are only ever put in the Authorization header: they appear in
// no error, log line or printed config.
package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("http",
		"Send batches of events as NDJSON or a JSON array to an HTTP endpoint.", New))
}

const (
	// maxErrorBody is how much of a failed response's body goes into the error.
	maxErrorBody = 512
	// maxDrain is how much of a response body is read so that the connection
	// can be reused; a longer body is cut off by closing.
	maxDrain = 256 << 10
)

// Sink sends batches over HTTP. Write is never called concurrently, so the
// encoding buffers are reused from one batch to the next, unless the
// transport still holds the previous request body (see body).
type Sink struct {
	url, host    string
	method       string
	header       nethttp.Header
	auth         string   // Authorization header value; secret
	secrets      []string // scrubbed from response bodies quoted in errors
	jsonArray    bool
	gzip         bool
	client       *nethttp.Client
	transport    *nethttp.Transport
	raw, payload []byte
	gz           *gzip.Writer
	inFlight     *atomic.Int32 // request bodies of the last Write not yet closed
	closeOnce    sync.Once
}

// New creates an http sink.
func New(cfg *Config, _ component.Deps) (component.Sink, error) {
	return newSink(cfg)
}

func newSink(cfg *Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("creating http sink: %w", err)
	}
	u, _ := url.Parse(string(cfg.URL))
	auth := cfg.Auth
	if u.User != nil {
		if auth == (Auth{}) {
			auth.User = u.User.Username()
			p, _ := u.User.Password()
			auth.Password = config.Secret(p)
		}
		u.User = nil
	}
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	if cfg.TLS != (config.ClientTLS{}) {
		tc, err := cfg.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("creating http sink: %w", err)
		}
		tr.TLSClientConfig = tc
	}
	s := &Sink{
		url: u.String(), method: cfg.Method, header: buildHeader(cfg),
		jsonArray: cfg.Encoding == "json_array", gzip: cfg.Compression == "gzip",
		transport: tr, inFlight: new(atomic.Int32),
		client: &nethttp.Client{
			Transport: tr, Timeout: cfg.Timeout.D(),
			// A POST redirected with 301/302 would be re-sent as a body-less
			// GET and count as delivered: never follow redirects.
			CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse },
		},
	}
	s.host = s.header.Get("Host")
	s.header.Del("Host")
	s.setAuth(auth)
	if s.gzip {
		s.gz, _ = gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
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

func (s *Sink) setAuth(a Auth) {
	switch {
	case a.Token != "":
		s.auth = "Bearer " + a.Token.Reveal()
		s.secrets = []string{a.Token.Reveal()}
	case a.User != "":
		cred := base64.StdEncoding.EncodeToString([]byte(a.User + ":" + a.Password.Reveal()))
		s.auth = "Basic " + cred
		s.secrets = []string{cred}
		if a.Password != "" {
			s.secrets = append(s.secrets, a.Password.Reveal())
		}
	}
}

// Write sends b as one request and maps the answer to an outcome.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	payload, err := s.encode(b)
	if err != nil {
		return err
	}
	req, err := nethttp.NewRequestWithContext(ctx, s.method, s.url, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	s.attachBody(req, payload)
	req.Header = s.header.Clone()
	if s.host != "" {
		req.Host = s.host
	}
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sending %d events: %w", len(b.Events), err)
	}
	return s.outcome(resp)
}

// encode fills the request body. The buffers of the previous Write are
// reused only when the transport has closed every body it was given;
// otherwise fresh ones are used and the old ones left to the transport.
func (s *Sink) encode(b *event.Batch) ([]byte, error) {
	if s.inFlight.Load() != 0 {
		s.raw, s.payload, s.inFlight = nil, nil, new(atomic.Int32)
	}
	raw := s.raw[:0]
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
	s.raw = raw
	if !s.gzip {
		return raw, nil
	}
	buf := bytes.NewBuffer(s.payload[:0])
	s.gz.Reset(buf)
	if _, err := s.gz.Write(raw); err != nil {
		return nil, fmt.Errorf("compressing body: %w", err)
	}
	if err := s.gz.Close(); err != nil {
		return nil, fmt.Errorf("compressing body: %w", err)
	}
	s.payload = buf.Bytes()
	return s.payload, nil
}

// body is a request body that tells the sink when the transport is done
// with it, which may be after Do returned.
type body struct {
	*bytes.Reader
	once     sync.Once
	inFlight *atomic.Int32
}

func (b *body) Close() error {
	b.once.Do(func() { b.inFlight.Add(-1) })
	return nil
}

func (s *Sink) attachBody(req *nethttp.Request, payload []byte) {
	inFlight := s.inFlight
	newBody := func() (io.ReadCloser, error) {
		inFlight.Add(1)
		return &body{Reader: bytes.NewReader(payload), inFlight: inFlight}, nil
	}
	req.Body, _ = newBody()
	req.GetBody = newBody
	req.ContentLength = int64(len(payload))
}

// outcome maps a response to nil, a transient error or a rejection, and
// always drains and closes the body.
func (s *Sink) outcome(resp *nethttp.Response) error {
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	prefix, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	err := &StatusError{Code: code, Body: s.scrub(prefix)}
	switch {
	case code == nethttp.StatusTooManyRequests || code == nethttp.StatusRequestTimeout || code >= 500:
		return fmt.Errorf("sending request: %w", err)
	case code >= 300 && code < 400:
		return component.Rejected(fmt.Errorf("sending request (redirects are not followed; set url to the final location): %w", err))
	}
	return component.Rejected(fmt.Errorf("sending request: %w", err))
}

// scrub makes a response excerpt safe to log: credentials a server echoed
// back are replaced, and invalid UTF-8 is made visible.
func (s *Sink) scrub(b []byte) string {
	out := strings.ToValidUTF8(string(b), "\ufffd")
	for _, sec := range s.secrets {
		if sec != "" {
			out = strings.ReplaceAll(out, sec, "<redacted>")
		}
	}
	return out
}

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body (at most 512 bytes), with
	// echoed credentials redacted.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Code, nethttp.StatusText(e.Code))
	if e.Body != "" {
		msg += fmt.Sprintf(": %q", e.Body)
	}
	return msg
}

// Close releases idle connections. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(s.transport.CloseIdleConnections)
	return nil
}

var _ component.Sink = (*Sink)(nil)
