package elasticsearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/telemetry"
	tu "github.com/sluice-log/sluice/internal/testutil"
)

// fakeES implements the _bulk protocol as Elasticsearch does: NDJSON
// action/document pairs, gzip bodies, per-item statuses, create answering
// 409 for an existing _id. No real Elasticsearch can be installed here,
// so this is checked against the documented wire format.
type fakeES struct {
	mu        sync.Mutex
	docs      map[string]map[string]json.RawMessage // index -> id -> doc
	attempts  map[string]int                        // id -> times seen
	order     []string                              // messages in the order they were stored
	requests  int
	failFirst int // whole-request failures before anything succeeds
	failWith  int // their status; default 503
	auth      string
}

func newFakeES() *fakeES {
	return &fakeES{docs: map[string]map[string]json.RawMessage{}, attempts: map[string]int{}}
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.URL.Path != "/_bulk" || r.Method != http.MethodPost {
		http.Error(w, `{"error":"no handler"}`, 400)
		return
	}
	if f.auth != "" && r.Header.Get("Authorization") != f.auth {
		http.Error(w, `{"error":{"type":"security_exception"}}`, http.StatusUnauthorized)
		return
	}
	if f.failFirst > 0 {
		f.failFirst--
		status := f.failWith
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		http.Error(w, `{"error":"unavailable"}`, status)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	var items []string
	failed := false
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
			http.Error(w, `{"error":"bad action line"}`, 400)
			return
		}
		meta, ok := action["create"]
		if !ok || !sc.Scan() {
			http.Error(w, `{"error":"expected create and a document"}`, 400)
			return
		}
		doc := json.RawMessage(bytes.Clone(sc.Bytes()))
		var d struct{ Message string }
		if err := json.Unmarshal(doc, &d); err != nil {
			http.Error(w, `{"error":"bad document line"}`, 400)
			return
		}
		f.attempts[meta.ID]++
		status, errJSON := 201, ""
		switch {
		case strings.Contains(d.Message, "mapping-bad"):
			status, errJSON = 400, `{"type":"mapper_parsing_exception","reason":"failed to parse field [status]"}`
		case strings.Contains(d.Message, "busy") && f.attempts[meta.ID] == 1:
			status, errJSON = 429, `{"type":"es_rejected_execution_exception","reason":"queue full"}`
		case f.docs[meta.Index][meta.ID] != nil:
			status, errJSON = 409, `{"type":"version_conflict_engine_exception"}`
		default:
			if f.docs[meta.Index] == nil {
				f.docs[meta.Index] = map[string]json.RawMessage{}
			}
			f.docs[meta.Index][meta.ID] = doc
			f.order = append(f.order, d.Message)
		}
		if status >= 300 {
			failed = true
			items = append(items, fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":%d,"error":%s}}`, meta.Index, meta.ID, status, errJSON))
		} else {
			items = append(items, fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":201,"result":"created"}}`, meta.Index, meta.ID))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"took":1,"errors":%v,"items":[%s]}`, failed, strings.Join(items, ","))
}

func (f *fakeES) messages() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, docs := range f.docs {
		for _, d := range docs {
			var doc struct{ Message string }
			if err := json.Unmarshal(d, &doc); err != nil {
				// ServeHTTP stores only documents it decoded; should one
				// not decode, the caller's Diff shows it.
				out["undecodable document: "+err.Error()]++
				continue
			}
			out[doc.Message]++
		}
	}
	return out
}

// esSource emits numbered messages in batches, for pipeline tests.
type esSourceConfig struct {
	Messages []string `yaml:"messages"`
	Batch    int      `yaml:"batch"`
}

var results sync.Map // source id -> *[]ack.Status

type esSource struct {
	cfg *esSourceConfig
	id  string
}

func (s *esSource) Run(ctx context.Context, emit component.Emit) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var statuses []ack.Status
	for i := 0; i < len(s.cfg.Messages); i += s.cfg.Batch {
		b := &event.Batch{}
		for _, m := range s.cfg.Messages[i:min(i+s.cfg.Batch, len(s.cfg.Messages))] {
			b.Events = append(b.Events, event.Event{Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
				Host: "web1", Stream: "app", Message: []byte(m), Fields: event.Fields{{Key: "n", Value: event.Int(int64(i))}}})
		}
		wg.Add(1)
		b.Ack = ack.New(func(st ack.Status) { mu.Lock(); statuses = append(statuses, st); mu.Unlock(); wg.Done() })
		if err := emit(ctx, b); err != nil {
			return err
		}
	}
	wg.Wait()
	results.Store(s.id, &statuses)
	return nil
}

func init() {
	component.MustRegister(component.SourceSpec("estestsrc", "test", func(c *esSourceConfig, d component.Deps) (component.Source, error) {
		return &esSource{cfg: c, id: d.ID}, nil
	}))
}

// TestBulkPartialFailures: 429 items are retried alone, the mapping error
// is dead-lettered and counted, the rest is indexed exactly once.
func TestBulkPartialFailures(t *testing.T) {
	es := newFakeES()
	es.failFirst = 2
	es.auth = "Basic ZWxhc3RpYzpwdw=="
	srv := httptest.NewServer(es)
	defer srv.Close()
	dir := t.TempDir()
	var msgs []string
	for i := 0; i < 100; i++ {
		m := fmt.Sprintf("line %d", i)
		switch {
		case i%10 == 3:
			m += " busy"
		case i == 42:
			m += " mapping-bad"
		}
		msgs = append(msgs, m)
	}
	url := strings.Replace(srv.URL, "http://", "es+http://elastic:pw@", 1) + "/ignored?auth=basic"
	reg, statuses := runPipeline(t, msgs, url, fmt.Sprintf(`
    index: "logs-{{ .stream }}-%%Y.%%m.%%d"
    dead_letter: %s/dead.jsonl`, dir))
	got := es.messages()
	for i, m := range msgs {
		want := 1
		if i == 42 {
			want = 0
		}
		if got[m] != want {
			t.Errorf("%q indexed %d times, want %d", m, got[m], want)
		}
	}
	if _, ok := es.docs["logs-app-2026.11.22"]; !ok {
		t.Errorf("index names: %v", keys(es.docs))
	}
	dead, err := os.ReadFile(filepath.Join(dir, "dead.jsonl"))
	if err != nil || !strings.Contains(string(dead), "mapper_parsing_exception") || !strings.Contains(string(dead), "line 42 mapping-bad") ||
		strings.Count(string(dead), "\n") != 1 {
		t.Errorf("dead letter file: %q, %v", dead, err)
	}
	if n := sumCounter(t, reg, "sluice_sink_rejected_events_total"); n != 1 {
		t.Errorf("rejected counter %v, want 1", n)
	}
	for _, s := range statuses {
		if !s.Committable() {
			t.Errorf("a batch ended %v", s)
		}
	}
}

// runPipeline sends msgs in batches of 25 through a pipeline into an
// elasticsearch sink at url, configured further by the YAML lines in
// extra, and returns the metrics and the final status of every batch.
func runPipeline(t *testing.T, msgs []string, url, extra string) (*prometheus.Registry, []ack.Status) {
	t.Helper()
	dir := t.TempDir()
	data, _ := json.Marshal(msgs)
	yaml := fmt.Sprintf(`
data_dir: %s
sources:
  src: { type: estestsrc, batch: 25, messages: %s }
sinks:
  es:
    type: elasticsearch
    inputs: [src]
    url: "%s"
    batch: { max_events: 40, timeout: 10ms }
    retry: { initial_backoff: 1ms, max_backoff: 5ms }%s
`, dir, data, url, extra)
	cfg, err := config.Parse("es.yaml", []byte(yaml), os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := pipeline.New(pipeline.Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(reg)})
	if err := p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	p.Stop(10 * time.Second)
	st, _ := results.LoadAndDelete("src")
	return reg, *st.(*[]ack.Status)
}

// TestWholeRequestStatusThroughPipeline: a 408 is retried until the
// cluster takes the batch; a 401 rejects it, and the pipeline counts the
// rejected events instead of retrying forever.
func TestWholeRequestStatusThroughPipeline(t *testing.T) {
	msgs := []string{"a", "b", "c"}
	t.Run("408 retried", func(t *testing.T) {
		es := newFakeES()
		es.failFirst, es.failWith = 2, http.StatusRequestTimeout
		srv := httptest.NewServer(es)
		defer srv.Close()
		reg, statuses := runPipeline(t, msgs, srv.URL, "\n    index: logs")
		tu.Diff(t, map[string]int{"a": 1, "b": 1, "c": 1}, es.messages())
		tu.Diff(t, []ack.Status{ack.Delivered}, statuses)
		if n := sumCounter(t, reg, "sluice_sink_retries_total"); n != 2 {
			t.Errorf("retries counter %v, want 2", n)
		}
		tu.Diff(t, 0.0, sumCounter(t, reg, "sluice_sink_rejected_events_total"))
	})
	t.Run("401 rejected and counted", func(t *testing.T) {
		es := newFakeES()
		es.auth = "Basic right"
		srv := httptest.NewServer(es)
		defer srv.Close()
		reg, statuses := runPipeline(t, msgs, srv.URL, "\n    index: logs\n    auth: { user: elastic, password: wrong }")
		tu.Diff(t, map[string]int{}, es.messages())
		tu.Diff(t, []ack.Status{ack.Rejected}, statuses)
		tu.Diff(t, 3.0, sumCounter(t, reg, "sluice_sink_rejected_events_total"))
		tu.Diff(t, 1, es.requests)
	})
}

// TestTemplateFailureRejectsOneEvent: an index name that cannot be
// rendered for one event rejects (and dead-letters) that event alone; the
// others go in the bulk request, with their own outcomes.
func TestTemplateFailureRejectsOneEvent(t *testing.T) {
	es := newFakeES()
	srv := httptest.NewServer(es)
	defer srv.Close()
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	c := tu.NewConfig(t, func(c *Config) {
		c.URL, c.DeadLetter = config.URL(srv.URL), dead
		c.Index = `logs-{{ replace .old "x" .stream }}` // replace wants a string
	})
	s, err := New(c, tu.Deps(t, "es"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	ev := func(msg string, old event.Value) event.Event {
		return event.Event{Stream: "app", Message: []byte(msg), Fields: event.Fields{{Key: "old", Value: old}}}
	}
	b := &event.Batch{Events: []event.Event{ev("one", event.String("p")), ev("bad", event.Int(1)),
		ev("busy", event.String("p")), ev("two", event.String("p"))}}
	err = s.Write(t.Context(), b)
	var part *component.PartialError
	if !errors.As(err, &part) {
		t.Fatalf("Write = %v, want a PartialError", err)
	}
	tu.Diff(t, []component.Outcome{component.OK, component.Reject, component.Retry, component.OK}, part.Outcomes)
	tu.Diff(t, map[string]int{"one": 1, "two": 1}, es.messages())
	data, err := os.ReadFile(dead)
	if err != nil || !strings.Contains(string(data), "index_template_error") || !strings.Contains(string(data), `"message":"bad"`) ||
		strings.Count(string(data), "\n") != 1 {
		t.Errorf("dead letter file: %q, %v", data, err)
	}

	// Only the bad event: rejected as a whole, nothing sent.
	requests := es.requests
	err = s.Write(t.Context(), &event.Batch{Events: []event.Event{ev("bad", event.Int(1))}})
	var rej *component.RejectError
	if !errors.As(err, &rej) {
		t.Errorf("Write of only a bad event = %v, want rejected", err)
	}
	tu.Diff(t, requests, es.requests)
}

func sumCounter(t *testing.T, g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRetriedBatchCreatesNoDuplicates sends the same batch twice: the
// content-derived ids make the second one a no-op (409 = delivered).
func TestRetriedBatchCreatesNoDuplicates(t *testing.T) {
	es := newFakeES()
	srv := httptest.NewServer(es)
	defer srv.Close()
	c := tu.NewConfig(t, func(c *Config) { c.URL, c.Index = config.URL(srv.URL), "logs" })
	s, err := New(c, tu.Deps(t, "es"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), &event.Batch{}); err != nil {
		t.Fatalf("Write of an empty batch: %v", err)
	}
	b := &event.Batch{Events: []event.Event{{Message: []byte("a")}, {Message: []byte("b")}}}
	for range 2 {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	tu.Diff(t, map[string]int{"a": 1, "b": 1}, es.messages())
}

func TestWholeRequestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		status int
		reject bool
	}{{408, false}, {425, false}, {429, false}, {500, false}, {503, false},
		{400, true}, {401, true}, {403, true}, {404, true}, {413, true}, {301, true}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"error":"x","password":"hunter2"}`, tc.status)
			}))
			defer srv.Close()
			c := tu.NewConfig(t, func(c *Config) {
				c.URL = config.URL(strings.Replace(srv.URL, "http://", "es+http://u:hunter2@", 1) + "/i")
			})
			s, err := New(c, tu.Deps(t, "es"))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Write(t.Context(), &event.Batch{Events: []event.Event{{Message: []byte("m")}}})
			var rej *component.RejectError
			if err == nil || errors.As(err, &rej) != tc.reject {
				t.Errorf("error %v, reject %v", err, tc.reject)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("password in error: %v", err)
			}
		})
	}
}

func TestDocumentFormat(t *testing.T) {
	e := &event.Event{Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 5, time.UTC), Host: "h", Stream: "s",
		Message: []byte("bad \xff"), Fields: event.Fields{{Key: "status", Value: event.Int(500)}, {Key: "host", Value: event.String("dup")}}}
	tu.Diff(t, `{"@timestamp":"2026-11-22T10:00:00.000000005Z","host":"h","stream":"s","message":"bad \u00ff","status":500}`,
		string(appendDocument(nil, e)))
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct{ url, err string }{
		{"es+https://u:p@es:9200/x?auth=apikey", ""},
		{"https://es:9200", ""},
		{"syslog+tcp://h:1", "not an elasticsearch drain"},
		{"", "url is required"},
	} {
		c := &Config{URL: config.URL(tc.url)}
		c.Defaults()
		err := c.Validate()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want %q", tc.url, err, tc.err)
		}
	}
	c := tu.NewConfig(t, func(c *Config) { c.URL = "es+https://u:key@es/x?auth=apikey" })
	ep := c.ep
	tu.Diff(t, "ApiKey key", ep.auth)
	tu.Diff(t, "https://es:9200", ep.base)
}

// FuzzOutcome feeds arbitrary 2xx bulk responses: never a panic, and an
// answer is only taken as success when it is valid JSON.
func FuzzOutcome(f *testing.F) {
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":429}}]}`))
	f.Add([]byte(`{"errors":true,"items":[{}]}`))
	f.Add([]byte(`x`))
	c := tu.NewConfig(f, func(c *Config) { c.URL = "http://127.0.0.1:1" })
	s, err := New(c, tu.Deps(f, "es"))
	if err != nil {
		f.Fatal(err)
	}
	sink := s.(*Sink)
	sink.sent = []int{0}
	b := &event.Batch{Events: []event.Event{{Message: []byte("m")}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := sink.outcome(body, b)
		if err == nil && !json.Valid(body) {
			t.Fatalf("body %q accepted", body)
		}
	})
}
