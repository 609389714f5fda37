package http

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	nethttp "net/http"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// ndjsonPeer records the messages of NDJSON or JSON array bodies.
type ndjsonPeer struct {
	mu   sync.Mutex
	msgs []string
}

func (p *ndjsonPeer) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
			return
		}
		in = zr
	}
	var msgs []string
	type doc struct{ Message string }
	if r.Header.Get("Content-Type") == "application/json" {
		var docs []doc
		if err := json.NewDecoder(in).Decode(&docs); err != nil {
			nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
			return
		}
		for _, d := range docs {
			msgs = append(msgs, d.Message)
		}
	} else {
		sc := bufio.NewScanner(in)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var d doc
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
				return
			}
			msgs = append(msgs, d.Message)
		}
		if sc.Err() != nil {
			nethttp.Error(w, sc.Err().Error(), nethttp.StatusBadRequest)
			return
		}
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, msgs...)
	p.mu.Unlock()
}

func (p *ndjsonPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"ndjson", func(*Config) {}},
		{"gzip json array", func(c *Config) { c.Compression, c.Encoding = "gzip", "json_array" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
				rec := &ndjsonPeer{}
				peer := sinktest.NewHTTPPeer(t, rec)
				cfg := cfgFor(peer.URL + "/in")
				tc.edit(cfg)
				return &sinktest.Instance{Sink: mustSink(t, cfg), Received: rec.received,
					Break: peer.Break, Restart: peer.Restart, Hang: peer.Hang}
			}})
		})
	}
}
