package syslog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// maxErrorBody is how much of a failed response's body goes into the error.
const maxErrorBody = 512

// logplexTransport POSTs each batch as one logplex request, the way Heroku's
// log router feeds HTTPS drains: Content-Type application/logplex-1, a
// Logplex-Msg-Count header, and a body of octet-counted RFC 5424 frames.
// 2xx is delivered; 408, 429, 5xx and network errors are retried; any other
// answer rejects the batch.
type logplexTransport struct {
	target *target
	client *http.Client
	tr     *http.Transport
}

func newLogplexTransport(t *target, timeout time.Duration) (*logplexTransport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if t.mode == ModeHTTPS {
		c := t.tls
		tc, err := tlsconf.Client(c.CA, c.Cert, c.Key, c.ServerName, c.InsecureSkipVerify)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &logplexTransport{target: t, tr: tr, client: &http.Client{
		Transport: tr, Timeout: timeout,
		// A redirected POST would be re-sent as a GET without a body.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func (l *logplexTransport) send(ctx context.Context, f *frames) error {
	// The transport may read the body after Do returns, so it gets its own
	// copy rather than the encoder's reused buffer.
	body := bytes.Clone(f.buf)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target.addr, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building logplex request: %w", err)
	}
	req.Header.Set("Content-Type", "application/logplex-1")
	req.Header.Set("Logplex-Msg-Count", strconv.Itoa(f.count()))
	req.Header.Set("User-Agent", "sluice")
	if l.target.user != "" {
		req.SetBasicAuth(l.target.user, l.target.password.Reveal())
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("sending %d messages to %s: %w", f.count(), l.target, err)
	}
	return l.outcome(resp)
}

// outcome maps a response to nil, a transient error or a rejection, and
// always drains and closes the body so the connection is reused.
func (l *logplexTransport) outcome(resp *http.Response) error {
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
		_ = resp.Body.Close()
	}()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	prefix, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	err := fmt.Errorf("sending to %s: server answered %d %s: %q", l.target, code, http.StatusText(code), l.scrub(prefix))
	if code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500 {
		return err
	}
	return component.Rejected(err)
}

// scrub keeps an echoed password out of errors.
func (l *logplexTransport) scrub(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\ufffd")
	if p := l.target.password.Reveal(); p != "" {
		s = strings.ReplaceAll(s, p, "<redacted>")
	}
	return s
}

func (l *logplexTransport) close() error {
	l.tr.CloseIdleConnections()
	return nil
}

var _ transport = (*logplexTransport)(nil)
