package syslog

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/httpout"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// logplexTransport POSTs each batch as one logplex request, the way Heroku's
// log router feeds HTTPS drains: Content-Type application/logplex-1, a
// Logplex-Msg-Count header, and a body of octet-counted RFC 5424 frames.
// Answers go through httpout's status table: 2xx is delivered; 408, 425,
// 429, 5xx and network errors are retried; any other answer rejects the
// batch.
type logplexTransport struct {
	target  *target
	client  *httpout.Client
	payload *httpout.Payload
	header  http.Header
}

func newLogplexTransport(t *target, timeout time.Duration) (*logplexTransport, error) {
	o := httpout.Options{Timeout: timeout}
	if t.mode == ModeHTTPS {
		c := t.tls
		tc, err := tlsconf.Client(c.CA, c.Cert, c.Key, c.ServerName, c.InsecureSkipVerify)
		if err != nil {
			return nil, err
		}
		o.TLS = tc
	}
	h := http.Header{}
	h.Set("Content-Type", "application/logplex-1")
	h.Set("User-Agent", "sluice")
	if t.user != "" {
		r := &http.Request{Header: h}
		r.SetBasicAuth(t.user, t.password.Reveal())
		o.Secrets = []string{t.password.Reveal(), h.Get("Authorization")[len("Basic "):]}
	}
	payload, err := httpout.NewPayload(false, 0)
	if err != nil {
		return nil, err
	}
	return &logplexTransport{target: t, client: httpout.New(o), payload: payload, header: h}, nil
}

func (l *logplexTransport) send(ctx context.Context, f *frames) error {
	// The encoder's buffer is reused by the next Write, and the transport
	// may read the body after Send returns: copy it into the payload.
	if err := l.payload.Finish(ctx, append(l.payload.Begin(), f.buf...)); err != nil {
		return err
	}
	h := l.header.Clone()
	h.Set("Logplex-Msg-Count", strconv.Itoa(f.count()))
	if _, err := l.client.Send(ctx, &httpout.Request{URL: l.target.addr, Header: h}, l.payload); err != nil {
		return fmt.Errorf("sending %d messages to %s: %w", f.count(), l.target, err)
	}
	return nil
}

func (l *logplexTransport) close() error {
	l.client.Close()
	return nil
}

var _ transport = (*logplexTransport)(nil)
