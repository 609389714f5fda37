// Command otlpload is the load generator of bench/otlp.sh: it POSTs N
// log records of SIZE-byte bodies as OTLP/HTTP protobuf requests of
// BATCH records over CONNS keep-alive connections, each connection
// waiting for the answer to one request before sending the next, and
// prints the rate. Every request must be answered 200 with no rejected
// records. The request bodies are encoded once, so the receiver, not the
// generator, is measured.
//
//	otlpload -url http://127.0.0.1:4318/v1/logs -n 1000000
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:4318/v1/logs", "OTLP/HTTP logs endpoint")
	n := flag.Int("n", 1_000_000, "records to send")
	batch := flag.Int("batch", 500, "records per request")
	conns := flag.Int("conns", 4, "concurrent connections")
	size := flag.Int("size", 200, "body bytes per record")
	flag.Parse()
	if err := run(*url, *n, *batch, *conns, *size); err != nil {
		fmt.Fprintln(os.Stderr, "otlpload:", err)
		os.Exit(1)
	}
}

func body(batch, size int) ([]byte, error) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "otlpload")
	rl.Resource().Attributes().PutStr("host.name", "bench")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("otlpload")
	msg := strings.Repeat("x", size)
	now := time.Now()
	for i := range batch {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i))))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
		lr.Body().SetStr(msg)
		lr.Attributes().PutStr("http.method", "GET")
		lr.Attributes().PutInt("http.status_code", 200)
	}
	return plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
}

func run(url string, n, batch, conns, size int) error {
	payload, err := body(batch, size)
	if err != nil {
		return err
	}
	requests := (n + batch - 1) / batch
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr error
	var mu sync.Mutex
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(requests) {
				if err := post(client, url, payload); err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sent := requests * batch
	fmt.Printf("records=%d seconds=%.3f rate=%.0f failed_requests=%d\n", sent, elapsed, float64(sent)/elapsed, failed.Load())
	if firstErr != nil {
		return firstErr
	}
	return nil
}

func post(client *http.Client, url string, payload []byte) error {
	resp, err := client.Post(url, "application/x-protobuf", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, out)
	}
	r := plogotlp.NewExportResponse()
	if err := r.UnmarshalProto(out); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if k := r.PartialSuccess().RejectedLogRecords(); k != 0 {
		return fmt.Errorf("%d records rejected", k)
	}
	return nil
}
