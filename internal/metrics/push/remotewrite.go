package push

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
)

// maxSeriesPerRequest splits a large push into several requests, as
// Prometheus' own remote_write shards do (its default max is 2000).
const maxSeriesPerRequest = 2000

// remoteWrite encodes Prometheus remote_write 1.0: a snappy-compressed
// (block format) protobuf WriteRequest{timeseries: [TimeSeries{labels,
// samples}]}, labels sorted by name with __name__ among them. Histograms
// are the classic series: name_bucket{le}, name_sum and name_count.
type remoteWrite struct {
	prefix string

	ts  []byte // one TimeSeries being built
	req []byte // the WriteRequest being built
	lbl []label
	cum []uint64
}

func (r *remoteWrite) encode(s *snapshot) ([][]byte, int) {
	ms := s.at.UnixMilli()
	var out [][]byte
	n, inReq := 0, 0
	for fi := range s.fams {
		f := &s.fams[fi]
		for si := range f.series {
			x := &f.series[si]
			r.lbl = f.sortedLabels(r.lbl, x)
			if f.kind != store.Histogram {
				r.series(f.name, "", "", x.Value, ms)
				n++
			} else {
				r.cum = cumulative(r.cum, x)
				for i, c := range r.cum {
					le := f.les[i]
					r.series(f.name, "_bucket", le, float64(c), ms)
				}
				r.series(f.name, "_sum", "", x.Sum, ms)
				r.series(f.name, "_count", "", float64(x.Count), ms)
				n += len(r.cum) + 2
			}
			if inReq++; inReq >= maxSeriesPerRequest {
				out = append(out, snappy.Encode(nil, r.req))
				r.req, inReq = r.req[:0], 0
			}
		}
	}
	if len(r.req) > 0 || len(out) == 0 {
		out = append(out, snappy.Encode(nil, r.req))
		r.req = r.req[:0]
	}
	return out, n
}

// series appends one TimeSeries (field 1 of WriteRequest) with one sample.
func (r *remoteWrite) series(name, suffix, le string, v float64, ms int64) {
	t := r.ts[:0]
	// Labels sorted by name, as the spec wants: __name__ and le among
	// the series' own (an upper-case label sorts before __name__).
	named := false
	for _, l := range r.lbl {
		if !named && l.name > "__name__" {
			t, named = appendLabel(t, "__name__", r.prefix, name, suffix), true
		}
		if le != "" && l.name > "le" {
			t, le = appendLabel(t, "le", "", le, ""), ""
		}
		t = appendLabel(t, l.name, "", l.value, "")
	}
	if !named {
		t = appendLabel(t, "__name__", r.prefix, name, suffix)
	}
	if le != "" {
		t = appendLabel(t, "le", "", le, "")
	}
	// Sample{value: 1 (double), timestamp: 2 (int64 ms)}: 9 + 1 + up to 10 bytes.
	t = protowire.AppendTag(t, 2, protowire.BytesType)
	t = protowire.AppendVarint(t, uint64(9+1+protowire.SizeVarint(uint64(ms))))
	t = protowire.AppendTag(t, 1, protowire.Fixed64Type)
	t = protowire.AppendFixed64(t, math.Float64bits(v))
	t = protowire.AppendTag(t, 2, protowire.VarintType)
	t = protowire.AppendVarint(t, uint64(ms))
	r.ts = t
	r.req = protowire.AppendTag(r.req, 1, protowire.BytesType)
	r.req = protowire.AppendBytes(r.req, t)
}

// appendLabel appends Label{name: 1, value: 2} (field 1 of TimeSeries),
// the value being a+b+c (the name with its prefix and suffix).
func appendLabel(t []byte, name, a, b, c string) []byte {
	vl := len(a) + len(b) + len(c)
	t = protowire.AppendTag(t, 1, protowire.BytesType)
	t = protowire.AppendVarint(t, uint64(1+protowire.SizeVarint(uint64(len(name)))+len(name)+
		1+protowire.SizeVarint(uint64(vl))+vl))
	t = protowire.AppendTag(t, 1, protowire.BytesType)
	t = protowire.AppendString(t, name)
	t = protowire.AppendTag(t, 2, protowire.BytesType)
	t = protowire.AppendVarint(t, uint64(vl))
	return append(append(append(t, a...), b...), c...)
}

// httpSender POSTs each chunk to a remote_write URL: 2xx is delivered,
// 429 and 5xx are retried, any other answer is a rejection.
type httpSender struct {
	url    string
	header http.Header
	client *http.Client
}

func newRemoteWrite(c config.Pusher) (encoder, sender, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.TLS != (config.ClientTLS{}) {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, nil, fmt.Errorf("tls: %w", err)
		}
		tr.TLSClientConfig = tc
	}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Encoding", "snappy")
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	h.Set("User-Agent", "sluice")
	switch {
	case c.Auth.Token != "":
		h.Set("Authorization", "Bearer "+c.Auth.Token.Reveal())
	case c.Auth.User != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Auth.User+":"+c.Auth.Password.Reveal())))
	}
	return &remoteWrite{prefix: c.Prefix}, &httpSender{url: string(c.URL), header: h,
		client: &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

func (s *httpSender) send(ctx context.Context, chunks [][]byte) error {
	for _, c := range chunks {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(c))
		if err != nil {
			return fmt.Errorf("%w: building request: %w", errRejected, err)
		}
		req.Header = s.header.Clone()
		resp, err := s.client.Do(req)
		if err != nil {
			return fmt.Errorf("sending: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
		case code == http.StatusTooManyRequests || code >= 500:
			return fmt.Errorf("%s: %s", resp.Status, bytes.ToValidUTF8(bytes.TrimSpace(body), []byte("?")))
		default:
			return fmt.Errorf("%w: %s: %s", errRejected, resp.Status, bytes.ToValidUTF8(bytes.TrimSpace(body), []byte("?")))
		}
	}
	return nil
}

func (s *httpSender) close() { s.client.CloseIdleConnections() }

var (
	_ encoder = (*remoteWrite)(nil)
	_ sender  = (*httpSender)(nil)
)
