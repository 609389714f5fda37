// Package loki implements the loki sink: batches pushed to Grafana Loki's
// push API (/loki/api/v1/push), as snappy-compressed protobuf (default) or
// JSON.
//
// Each event goes to the stream of its label set, rendered from the label
// templates; a push holds one entry list per stream, sorted by time (Loki
// refuses entries older than the newest of their stream). The number of
// distinct label sets is capped: beyond max_label_sets events go to one
// overflow stream, counted. Delivery goes through httpout (2xx delivered,
// 429 and 5xx retried by the pipeline, other answers rejected), except that
// a 400 naming entries "out of order" or "too old" is a per-event reject:
// Loki stored the rest of the push.
package loki

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	nethttp "net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/httpout"
	"github.com/sluice-log/sluice/internal/telemetry"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("loki",
		"Push events to Grafana Loki (protobuf + snappy or JSON), labelled from templates.", New))
}

// overflowLabels is the stream of events whose label set is over the cap;
// unlabelled the stream of events whose labels all rendered empty.
var (
	overflowSet   = &labelSet{str: `{sluice_overflow="true"}`, pairs: []string{"sluice_overflow", "true"}}
	unlabelledSet = &labelSet{str: `{sluice="unlabelled"}`, pairs: []string{"sluice", "unlabelled"}}
)

// Sink pushes batches to Loki. Write is never called concurrently; its
// buffers and streams are reused from one batch to the next.
type Sink struct {
	cfg      *Config
	client   *httpout.Client
	payload  *httpout.Payload
	req      httpout.Request
	overflow prometheus.Counter
	rejected prometheus.Counter

	seen     map[string]*labelSet // every label set sent to, up to the cap
	byLabels map[*labelSet]*stream
	streams  []*stream
	spare    []*stream
	lbuf     []byte // label set being rendered
	vbuf     []byte // label value being rendered
	pairs    []string
	lines    []byte // json lines, back to back
	ends     []int
	pb       []byte // protobuf before snappy

	closeOnce sync.Once
}

// New builds a loki sink from a validated config.
func New(cfg *Config, d component.Deps) (component.Sink, error) {
	m := d.Metrics
	if m == nil {
		m = telemetry.Discard("sink", "loki", d.ID)
	}
	return newSink(cfg, m)
}

func newSink(cfg *Config, m *telemetry.Component) (*Sink, error) {
	opts := httpout.Options{Timeout: cfg.Timeout.D()}
	if cfg.TLS != (config.ClientTLS{}) {
		tc, err := cfg.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("creating loki sink: %w", err)
		}
		opts.TLS = tc
	}
	h := nethttp.Header{}
	h.Set("User-Agent", "sluice")
	if cfg.Encoding == "protobuf" {
		h.Set("Content-Type", "application/x-protobuf")
	} else {
		h.Set("Content-Type", "application/json")
	}
	if cfg.Compression == "gzip" {
		h.Set("Content-Encoding", "gzip")
	}
	if cfg.Tenant != "" {
		h.Set("X-Scope-OrgID", cfg.Tenant)
	}
	switch {
	case cfg.Auth.Token != "":
		h.Set("Authorization", "Bearer "+cfg.Auth.Token.Reveal())
		opts.Secrets = []string{cfg.Auth.Token.Reveal()}
	case cfg.Auth.User != "":
		cred := base64.StdEncoding.EncodeToString([]byte(cfg.Auth.User + ":" + cfg.Auth.Password.Reveal()))
		h.Set("Authorization", "Basic "+cred)
		opts.Secrets = []string{cred, cfg.Auth.Password.Reveal()}
	}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	payload, err := httpout.NewPayload(cfg.Compression == "gzip", gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("creating loki sink: %w", err)
	}
	return &Sink{cfg: cfg, client: httpout.New(opts), payload: payload,
		req: httpout.Request{URL: cfg.url, Header: h},
		overflow: m.Counter("loki_label_overflow_total",
			"Events sent to the overflow stream because max_label_sets distinct label sets were reached.", nil),
		rejected: m.Counter("loki_entries_rejected_total",
			"Entries Loki refused as out of order or too old.", nil),
		seen: map[string]*labelSet{}, byLabels: map[*labelSet]*stream{},
	}, nil
}

// Write groups b into streams, sorts each by time and pushes them.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	s.group(b)
	var raw []byte
	if s.cfg.Encoding == "protobuf" {
		s.pb = appendPush(s.pb[:0], s.streams)
		raw = s.payload.Begin()
		need := snappy.MaxEncodedLen(len(s.pb))
		if cap(raw) < need {
			raw = make([]byte, need)
		}
		raw = snappy.Encode(raw[:need], s.pb)
	} else {
		raw = appendJSON(s.payload.Begin(), s.streams)
	}
	if err := s.payload.Finish(ctx, raw); err != nil {
		return err
	}
	req := s.req
	req.Header = s.req.Header.Clone()
	_, err := s.client.Send(ctx, &req, s.payload)
	if err == nil {
		return nil
	}
	var se *httpout.StatusError
	if errors.As(err, &se) && se.Code == nethttp.StatusBadRequest && orderReject(se.Body) {
		return s.perEvent(b, se.Body, err)
	}
	return fmt.Errorf("pushing %d events: %w", len(b.Events), err)
}

// group fills s.streams with the events of b, each stream's entries
// sorted by time (stable: equal times keep their order).
func (s *Sink) group(b *event.Batch) {
	for _, st := range s.streams {
		st.entries = st.entries[:0]
		s.spare = append(s.spare, st)
	}
	s.streams = s.streams[:0]
	clear(s.byLabels)
	if s.cfg.Line == "json" {
		s.lines, s.ends = s.lines[:0], s.ends[:0]
		for i := range b.Events {
			s.lines = codec.JSON.Encode(s.lines, &b.Events[i])
			s.ends = append(s.ends, len(s.lines))
		}
	}
	start := 0
	for i := range b.Events {
		e := &b.Events[i]
		set := s.labelSetOf(e)
		st := s.byLabels[set]
		if st == nil {
			if n := len(s.spare); n > 0 {
				st, s.spare = s.spare[n-1], s.spare[:n-1]
			} else {
				st = &stream{}
			}
			st.set = set
			s.byLabels[set] = st
			s.streams = append(s.streams, st)
		}
		line := e.Message
		if s.cfg.Line == "json" {
			line = s.lines[start:s.ends[i]]
			start = s.ends[i]
		}
		st.entries = append(st.entries, entry{ts: e.Timestamp.UnixNano(), line: line, idx: i})
	}
	for _, st := range s.streams {
		slices.SortStableFunc(st.entries, func(a, b entry) int { return cmp.Compare(a.ts, b.ts) })
	}
}

// labelSetOf renders e's labels and returns their set, interned in
// s.seen; past the cap, the overflow set.
func (s *Sink) labelSetOf(e *event.Event) *labelSet {
	s.lbuf = append(s.lbuf[:0], '{')
	s.pairs = s.pairs[:0]
	for _, l := range s.cfg.labels {
		var err error
		s.vbuf, err = l.tmpl.Render(s.vbuf[:0], e)
		if err != nil || len(s.vbuf) == 0 {
			continue // an unrenderable or empty label is left out, as Loki drops empty ones
		}
		s.lbuf = appendLabel(s.lbuf, l.name, s.vbuf)
	}
	if len(s.lbuf) == 1 {
		return unlabelledSet
	}
	s.lbuf = append(s.lbuf, '}')
	if set, ok := s.seen[string(s.lbuf)]; ok {
		return set
	}
	if len(s.seen) >= s.cfg.MaxLabelSets {
		s.overflow.Inc()
		return overflowSet
	}
	set := &labelSet{str: string(s.lbuf)}
	for _, l := range s.cfg.labels {
		v, err := l.tmpl.RenderString(e)
		if err == nil && v != "" {
			set.pairs = append(set.pairs, l.name, v)
		}
	}
	s.seen[set.str] = set
	return set
}

// Loki's answer names each refused entry: "entry with timestamp <Go
// time.Time.String()> ignored, reason: '...'".
var (
	ignoredEntry = regexp.MustCompile(`entry with timestamp (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [-+]\d{4} [^ ]+) ignored`)
	orderReasons = []string{"out of order", "too far behind", "too old", "greater_than_max_sample_age"}
)

func orderReject(body string) bool {
	for _, r := range orderReasons {
		if strings.Contains(body, r) {
			return true
		}
	}
	return false
}

// perEvent maps a 400 "out of order / too old" to outcomes: the entries it
// names are rejected, the others were stored. Loki's answer is read up to
// httpout.MaxErrorBody bytes: entries named past that count as stored
// (Loki dropped them either way). When none can be matched the whole batch
// is rejected.
func (s *Sink) perEvent(b *event.Batch, body string, err error) error {
	refused := map[int64]bool{}
	for _, m := range ignoredEntry.FindAllStringSubmatch(body, -1) {
		if t, perr := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", m[1]); perr == nil {
			refused[t.UnixNano()] = true
		}
	}
	out := make([]component.Outcome, len(b.Events))
	n := 0
	for i := range b.Events {
		if refused[b.Events[i].Timestamp.UnixNano()] {
			out[i] = component.Reject
			n++
		}
	}
	if n == 0 {
		s.rejected.Add(float64(len(b.Events)))
		return component.Rejected(fmt.Errorf("pushing %d events: %w", len(b.Events), err))
	}
	s.rejected.Add(float64(n))
	return &component.PartialError{Outcomes: out, Err: fmt.Errorf("loki refused %d entries: %w", n, err)}
}

// Close releases idle connections. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(s.client.Close)
	return nil
}

var _ component.Sink = (*Sink)(nil)
