// Package httpout is the one HTTP delivery path of the sinks that POST
// batches (http, elasticsearch, the syslog sink's logplex transport).
//
// A Client sends one request per Send and maps the answer to the
// pipeline's outcomes with one status table (see Outcome): 2xx is
// delivered; 408, 425, 429, 5xx and connection errors are transient and
// honour Retry-After; any other answer, an unfollowed redirect included,
// rejects the batch. Redirects are never followed, since a redirected POST
// would be re-sent as a GET without its body and count as delivered.
// Response excerpts quoted in errors have the client's secrets replaced by
// <redacted>. A Payload builds request bodies in buffers that are reused
// only once the transport has let go of them. The Client never retries.
package httpout

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

const (
	// MaxErrorBody is how much of a failed response's body goes into the
	// error.
	MaxErrorBody = 512
	// maxDrain is how much of a response body is read so that the
	// connection can be reused; a longer body is cut off by closing.
	maxDrain = 256 << 10
)

// Options configures a Client. The zero value is usable: system roots,
// no timeout, no secrets.
type Options struct {
	// TLS is the client TLS config of https URLs (see config.ClientTLS.Config);
	// nil uses the system roots.
	TLS *tls.Config
	// Timeout bounds one request, from connecting to reading the response.
	Timeout time.Duration
	// MaxIdleConnsPerHost, if positive, overrides the transport's default.
	MaxIdleConnsPerHost int
	// Secrets are replaced by <redacted> in response excerpts quoted in
	// errors (passwords, tokens, the base64 of basic credentials).
	Secrets []string
}

// Client sends requests for one sink. Its methods may be called
// concurrently, but a Payload may not.
type Client struct {
	client    *http.Client
	transport *http.Transport
	secrets   []string
}

// New returns a Client with its own transport.
func New(o Options) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.TLS != nil {
		tr.TLSClientConfig = o.TLS.Clone()
	}
	if o.MaxIdleConnsPerHost > 0 {
		tr.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	}
	var secrets []string
	for _, s := range o.Secrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	return &Client{transport: tr, secrets: secrets, client: &http.Client{
		Transport: tr, Timeout: o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Request is one delivery. Header is used as is (not cloned).
type Request struct {
	Method string // default POST
	URL    string
	Header http.Header
	// Host, if set, overrides the Host header.
	Host string
	// ReadBody is how much of a 2xx response body Send returns; 0 returns
	// none (the body is drained for connection reuse).
	ReadBody int64
}

// Response is a 2xx answer.
type Response struct {
	Code   int
	Header http.Header
	// Body holds up to Request.ReadBody bytes of the response body.
	Body []byte
}

// Send sends the body p holds and maps the answer: a 2xx returns the
// response and nil; anything else returns the outcome error (see Outcome).
// A connection error or a cancelled ctx is a transient error.
func (c *Client) Send(ctx context.Context, r *Request, p *Payload) (*Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	if r.Header != nil {
		req.Header = r.Header
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	p.attach(req)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending request: %w", err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
	}()
	if err := c.Outcome(resp); err != nil {
		return nil, err
	}
	out := &Response{Code: resp.StatusCode, Header: resp.Header}
	if r.ReadBody > 0 {
		if out.Body, err = io.ReadAll(io.LimitReader(resp.Body, r.ReadBody)); err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
	}
	return out, nil
}

// Close releases idle connections. It is idempotent.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// Scrub makes a response excerpt safe to quote: invalid UTF-8 is made
// visible and the client's secrets are replaced by <redacted>.
func (c *Client) Scrub(b []byte) string {
	return Scrub(b, c.secrets)
}

// Scrub makes b safe to quote in an error: invalid UTF-8 becomes U+FFFD
// and every non-empty secret is replaced by <redacted>.
func Scrub(b []byte, secrets []string) string {
	b = bytes.ToValidUTF8(b, []byte("\ufffd"))
	for _, s := range secrets {
		if s != "" {
			b = bytes.ReplaceAll(b, []byte(s), []byte("<redacted>"))
		}
	}
	return string(b)
}
