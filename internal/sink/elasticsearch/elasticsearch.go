// Package elasticsearch is the Elasticsearch (and OpenSearch) sink: each
// batch is one _bulk request of create actions, NDJSON and gzip.
//
// A bulk request can answer 200 while single documents fail, so the sink
// reads every item: created (or 409, already there) is delivered; 429 and
// 5xx items are returned as Retry, so the pipeline sends only those again;
// other 4xx items (mapping errors) are Rejected, counted, and written with
// their reason to the dead-letter file. Document ids are derived from the
// event's content, so a batch sent twice does not index anything twice.
package elasticsearch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/template"
)

// Sink writes to Elasticsearch.
type Sink struct {
	cfg      *Config
	ep       *endpoint
	index    *template.Template
	strftime bool
	client   *http.Client
	deps     component.Deps

	body, gz bytes.Buffer
	gzw      *gzip.Writer
	idx      []byte

	dlMu sync.Mutex
	dl   *os.File
}

// New returns an elasticsearch sink.
func New(c *Config, d component.Deps) (component.Sink, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	idx, err := template.Parse(ep.index)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	if strings.HasPrefix(ep.base, "https") {
		host := strings.TrimPrefix(ep.base, "https://")
		host = host[:strings.LastIndexByte(host, ':')]
		t := ep.tls
		if t.ServerName == "" {
			t.ServerName = strings.Trim(host, "[]")
		}
		if tr.TLSClientConfig, err = t.Config(); err != nil {
			return nil, err
		}
	}
	s := &Sink{cfg: c, ep: ep, index: idx, strftime: strings.Contains(ep.index, "%"), deps: d,
		client: &http.Client{Transport: tr, Timeout: c.Timeout.D(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if c.Compression == "gzip" {
		s.gzw, _ = gzip.NewWriterLevel(&s.gz, gzip.BestSpeed)
	}
	return s, nil
}

// Write implements component.Sink.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	s.body.Reset()
	for i := range b.Events {
		if err := s.appendDoc(&b.Events[i]); err != nil {
			return component.Rejected(err)
		}
	}
	payload := s.body.Bytes()
	if s.gzw != nil {
		s.gz.Reset()
		s.gzw.Reset(&s.gz)
		s.gzw.Write(payload)
		s.gzw.Close()
		payload = s.gz.Bytes()
	}
	url := s.ep.base + "/_bulk"
	if s.cfg.Pipeline != "" {
		url += "?pipeline=" + s.cfg.Pipeline
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return component.Rejected(fmt.Errorf("building bulk request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if s.gzw != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if s.ep.auth != "" {
		req.Header.Set("Authorization", s.ep.auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sending bulk request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading bulk response: %w", err)
	}
	return s.outcome(resp.StatusCode, body, b)
}

// outcome maps the response to the pipeline's outcomes.
func (s *Sink) outcome(status int, body []byte, b *event.Batch) error {
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("bulk request: %d %s", status, s.scrub(body))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Wrong credentials are fixed by an operator; keep the events until then.
		return fmt.Errorf("bulk request not authorized (%d): %s", status, s.scrub(body))
	case status >= 300:
		return component.Rejected(fmt.Errorf("bulk request: %d %s", status, s.scrub(body)))
	}
	var r bulkResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decoding bulk response: %w", err)
	}
	if !r.Errors {
		return nil
	}
	if len(r.Items) != len(b.Events) {
		return fmt.Errorf("bulk response has %d items for %d documents", len(r.Items), len(b.Events))
	}
	outcomes := make([]component.Outcome, len(r.Items))
	var retry, reject int
	var first string
	for i, it := range r.Items {
		res := result(it)
		switch {
		case res.Status < 300 || res.Status == http.StatusConflict:
			outcomes[i] = component.OK
		case res.Status == http.StatusTooManyRequests || res.Status >= 500:
			outcomes[i] = component.Retry
			retry++
		default:
			outcomes[i] = component.Reject
			reject++
			s.deadLetter(&b.Events[i], res)
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

// appendDoc appends the action and document lines for e.
func (s *Sink) appendDoc(e *event.Event) error {
	idx, err := s.index.Render(s.idx[:0], e)
	if err != nil {
		return err
	}
	if s.strftime {
		idx = template.Strftime(nil, string(idx), e.Timestamp)
	}
	s.idx = idx
	doc := appendDocument(nil, e)
	b := &s.body
	b.WriteString(`{"create":{"_index":`)
	b.Write(event.AppendJSONString(nil, strings.ToLower(string(idx))))
	b.WriteString(`,"_id":`)
	b.Write(event.AppendJSONString(nil, s.docID(e, doc)))
	b.WriteString("}}\n")
	b.Write(doc)
	b.WriteByte('\n')
	return nil
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

// scrub cuts a response body for an error message and hides credentials
// a proxy might echo.
func (s *Sink) scrub(body []byte) string {
	out := string(body[:min(len(body), 512)])
	for _, sec := range s.ep.secret {
		if sec != "" {
			out = strings.ReplaceAll(out, sec, "<redacted>")
		}
	}
	return out
}

// Close implements component.Sink.
func (s *Sink) Close(context.Context) error {
	s.client.CloseIdleConnections()
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
