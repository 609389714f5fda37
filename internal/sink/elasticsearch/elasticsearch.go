// Package elasticsearch is the Elasticsearch (and OpenSearch) sink: each
// batch is one _bulk request of create actions, NDJSON and gzip.
//
// The answer to the whole request goes through httpout's status table:
// 408, 425, 429, 5xx and connection errors are retried (after Retry-After,
// if given); 401, 403 and every other 4xx reject the batch, counted by the
// pipeline. A bulk request can answer 200 while single documents fail, so
// the sink reads every item: created (or 409, already there) is delivered;
// 408, 425, 429 and 5xx items are returned as Retry, so the pipeline sends
// only those again; other 4xx items (mapping errors) are Rejected, counted,
// and written with their reason to the dead-letter file. An event whose
// index name cannot be rendered is rejected and dead-lettered alone, before
// sending. Document ids are derived from the event's content, so a batch
// sent twice does not index anything twice.
package elasticsearch

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/httpout"
	"github.com/sluice-log/sluice/internal/template"
)

// maxResponse bounds how much of a bulk response is read.
const maxResponse = 64 << 20

// Sink writes to Elasticsearch. Write is never called concurrently, so
// the request body and index buffers are reused from one batch to the next.
type Sink struct {
	cfg      *Config
	ep       *endpoint
	index    *template.Template
	strftime bool
	client   *httpout.Client
	payload  *httpout.Payload
	req      httpout.Request
	deps     component.Deps

	idx  []byte
	sent []int // indexes in the batch of the documents in the request

	dlMu sync.Mutex
	dl   *os.File
}

// New returns an elasticsearch sink from a validated config. TLS files are
// read here, so a bad certificate fails the configuration rather than the
// first request.
func New(c *Config, d component.Deps) (component.Sink, error) {
	ep := c.ep
	var tc *tls.Config
	if strings.HasPrefix(ep.base, "https") {
		var err error
		if tc, err = ep.tls.Config(); err != nil {
			return nil, fmt.Errorf("creating elasticsearch sink: %w", err)
		}
	}
	level := gzip.NoCompression
	if c.Compression == "gzip" {
		level = gzip.BestSpeed
	}
	payload, err := httpout.NewPayload(c.Compression == "gzip", level)
	if err != nil {
		return nil, fmt.Errorf("creating elasticsearch sink: %w", err)
	}
	s := &Sink{cfg: c, ep: ep, index: c.index, strftime: strings.Contains(ep.index, "%"), deps: d,
		payload: payload,
		client: httpout.New(httpout.Options{TLS: tc, Timeout: c.Timeout.D(), MaxIdleConnsPerHost: 4,
			Secrets: ep.secret}),
		req: httpout.Request{URL: ep.base + "/_bulk", Header: http.Header{}, ReadBody: maxResponse}}
	if c.Pipeline != "" {
		s.req.URL += "?pipeline=" + url.QueryEscape(c.Pipeline)
	}
	s.req.Header.Set("Content-Type", "application/x-ndjson")
	s.req.Header.Set("User-Agent", "sluice")
	if payload.Gzip() {
		s.req.Header.Set("Content-Encoding", "gzip")
	}
	if ep.auth != "" {
		s.req.Header.Set("Authorization", ep.auth)
	}
	return s, nil
}

// Write implements component.Sink. An event whose index name cannot be
// rendered is rejected alone (and dead-lettered); the others are sent.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	body := s.payload.Begin()
	s.sent = s.sent[:0]
	var outcomes []component.Outcome // set once an event is rejected here
	var firstErr error
	for i := range b.Events {
		next, err := s.appendDoc(body, &b.Events[i])
		if err != nil {
			if outcomes == nil {
				outcomes = make([]component.Outcome, len(b.Events))
				firstErr = fmt.Errorf("event %d: %w", i, err)
			}
			outcomes[i] = component.Reject
			s.deadLetter(&b.Events[i], templateFailure(err))
			continue
		}
		body = next
		s.sent = append(s.sent, i)
	}
	if len(s.sent) == 0 {
		return component.Rejected(fmt.Errorf("rendering index names: %w", firstErr))
	}
	err := s.send(ctx, body, b)
	if outcomes == nil {
		return err
	}
	return s.merge(outcomes, err, firstErr)
}

// send posts the documents of b listed in s.sent and maps the answer.
func (s *Sink) send(ctx context.Context, body []byte, b *event.Batch) error {
	if err := s.payload.Finish(ctx, body); err != nil {
		return err
	}
	req := s.req
	req.Header = s.req.Header.Clone()
	resp, err := s.client.Send(ctx, &req, s.payload)
	if err != nil {
		return fmt.Errorf("sending bulk request: %w", err)
	}
	return s.outcome(resp.Body, b)
}

// merge combines the outcomes of events rejected before sending with the
// outcome of the request that carried the others (err, for the events in
// s.sent), into one PartialError over the whole batch. A RetryAfterError
// around err is kept around the PartialError.
func (s *Sink) merge(outcomes []component.Outcome, err, rendering error) error {
	var part *component.PartialError
	var rej *component.RejectError
	switch {
	case err == nil:
	case errors.As(err, &part) && len(part.Outcomes) == len(s.sent):
		for j, i := range s.sent {
			outcomes[i] = part.Outcomes[j]
		}
	case errors.As(err, &rej):
		for _, i := range s.sent {
			outcomes[i] = component.Reject
		}
	default:
		for _, i := range s.sent {
			outcomes[i] = component.Retry
		}
	}
	perr := &component.PartialError{Outcomes: outcomes, Err: errors.Join(rendering, err)}
	var ra *component.RetryAfterError
	if errors.As(err, &ra) {
		return component.RetryAfter(ra.After, perr)
	}
	return perr
}

// templateFailure is the dead-letter record of an event whose index name
// could not be rendered; it never reached the cluster, so it has no status.
func templateFailure(err error) bulkItemResult {
	reason, _ := json.Marshal(map[string]string{"type": "index_template_error", "reason": err.Error()})
	return bulkItemResult{Error: reason}
}

// outcome maps a 2xx bulk response to the pipeline's outcomes, for the
// documents of b listed in s.sent.
func (s *Sink) outcome(body []byte, b *event.Batch) error {
	var r bulkResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decoding bulk response: %w", err)
	}
	if !r.Errors {
		return nil
	}
	if len(r.Items) != len(s.sent) {
		return fmt.Errorf("bulk response has %d items for %d documents", len(r.Items), len(s.sent))
	}
	outcomes := make([]component.Outcome, len(r.Items))
	var retry, reject int
	var first string
	for j, it := range r.Items {
		res := result(it)
		switch {
		case res.Status < 300 || res.Status == http.StatusConflict:
			outcomes[j] = component.OK
		case httpout.Retryable(res.Status):
			outcomes[j] = component.Retry
			retry++
		default:
			outcomes[j] = component.Reject
			reject++
			s.deadLetter(&b.Events[s.sent[j]], res)
		}
		if first == "" && res.Status >= 300 && res.Status != http.StatusConflict {
			first = fmt.Sprintf("%d %s", res.Status, res.Error)
		}
	}
	if retry == 0 && reject == 0 {
		return nil
	}
	return &component.PartialError{Outcomes: outcomes, Err: fmt.Errorf("bulk items failed, first: %s", first)}
}

type bulkResponse struct {
	Errors bool                        `json:"errors"`
	Items  []map[string]bulkItemResult `json:"items"`
}

type bulkItemResult struct {
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// result returns the one action result an item holds ({"create": {...}}).
func result(it map[string]bulkItemResult) bulkItemResult {
	for _, v := range it {
		return v
	}
	return bulkItemResult{Status: 500}
}

// appendDoc appends the action and document lines for e to body. On
// error body is returned unchanged.
func (s *Sink) appendDoc(body []byte, e *event.Event) ([]byte, error) {
	idx, err := s.index.Render(s.idx[:0], e)
	if err != nil {
		return body, err
	}
	if s.strftime {
		idx = template.Strftime(nil, string(idx), e.Timestamp)
	}
	s.idx = idx
	body = append(body, `{"create":{"_index":`...)
	body = event.AppendJSONString(body, strings.ToLower(string(idx)))
	body = append(body, `,"_id":`...)
	// The document goes after the action line; its hash is the default id.
	doc := appendDocument(nil, e)
	body = event.AppendJSONString(body, s.docID(e, doc))
	body = append(body, "}}\n"...)
	body = append(body, doc...)
	return append(body, '\n'), nil
}

// docID is the id_field's value, or a hash of the document: the same event
// sent twice gets the same id, and create answers 409 the second time.
func (s *Sink) docID(e *event.Event, doc []byte) string {
	if s.cfg.IDField != "" {
		if v, ok := e.Get(s.cfg.IDField); ok && v.Text() != "" {
			return v.Text()
		}
	}
	sum := sha256.Sum256(doc)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// appendDocument encodes e with @timestamp, as Elasticsearch expects.
func appendDocument(buf []byte, e *event.Event) []byte {
	buf = append(buf, `{"@timestamp":"`...)
	buf = e.Timestamp.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000000000Z07:00")
	buf = append(buf, `","host":`...)
	buf = event.AppendJSONString(buf, e.Host)
	buf = append(buf, `,"stream":`...)
	buf = event.AppendJSONString(buf, e.Stream)
	buf = append(buf, `,"message":`...)
	buf = event.AppendJSONString(buf, e.Message)
	for _, f := range e.Fields {
		switch f.Key {
		case "@timestamp", event.KeyHost, event.KeyStream, event.KeyMessage, event.KeyTimestamp:
			continue
		}
		buf = append(buf, ',')
		buf = event.AppendJSONString(buf, f.Key)
		buf = append(buf, ':')
		buf = f.Value.AppendJSON(buf)
	}
	return append(buf, '}')
}

// deadLetter records a refused document with its reason.
func (s *Sink) deadLetter(e *event.Event, res bulkItemResult) {
	if s.cfg.DeadLetter == "" {
		return
	}
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.dl == nil {
		f, err := os.OpenFile(s.cfg.DeadLetter, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			s.deps.Metrics.Errors.Inc()
			s.deps.Logger.Error("opening dead-letter file", "error", err)
			return
		}
		s.dl = f
	}
	line := []byte(`{"status":`)
	line = fmt.Appendf(line, "%d", res.Status)
	line = append(line, `,"error":`...)
	if len(res.Error) > 0 {
		line = append(line, res.Error...)
	} else {
		line = append(line, "null"...)
	}
	line = append(line, `,"document":`...)
	line = appendDocument(line, e)
	line = append(line, "}\n"...)
	if _, err := s.dl.Write(line); err != nil {
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Error("writing dead-letter file", "error", err)
	}
}

// Close implements component.Sink. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.client.Close()
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	if s.dl != nil {
		err := s.dl.Close()
		s.dl = nil
		return err
	}
	return nil
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func init() {
	component.MustRegister(component.SinkSpec("elasticsearch", "Elasticsearch/OpenSearch _bulk API with per-document outcomes and a dead-letter file", New))
}

var _ component.Sink = (*Sink)(nil)
