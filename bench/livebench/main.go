// Command livebench measures the live sink end to end with the real
// binary: it starts `sluice run` (http source -> live sink, api on
// loopback, ports chosen by the kernel), then
//
//   - throughput: posts -n lines as NDJSON and times how long a following
//     `sluice tail` takes to print them (lines/s, skipped counted);
//   - viewers: opens -viewers followers of one stream while lines arrive at
//     -rate per second for -duration, and reports sluice's RSS without and
//     with them, so the memory per viewer.
//
// Usage: go run ./bench/livebench -sluice bin/sluice [-mode throughput|viewers|both]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	bin := flag.String("sluice", "bin/sluice", "sluice binary")
	mode := flag.String("mode", "both", "throughput, viewers or both")
	n := flag.Int("n", 500000, "lines for the throughput run")
	viewers := flag.Int("viewers", 100, "followers for the viewers run")
	rate := flag.Int("rate", 1000, "lines per second for the viewers run")
	duration := flag.Duration("duration", 30*time.Second, "length of the viewers run")
	flag.Parse()
	if err := run(*bin, *mode, *n, *viewers, *rate, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

// server is a running sluice.
type server struct {
	cmd         *exec.Cmd
	api, ingest string
	dir         string
}

func run(bin, mode string, n, viewers, rate int, duration time.Duration) error {
	if mode == "throughput" || mode == "both" {
		// A backlog larger than the run: what tail cannot keep up with
		// would show as skipped lines.
		s, err := startSluice(bin, 1000000)
		if err != nil {
			return err
		}
		defer s.stop()
		if err := throughput(bin, s, n); err != nil {
			return err
		}
		if err := throughput(bin, s, n, "--json"); err != nil {
			return err
		}
	}
	if mode == "viewers" || mode == "both" {
		// A backlog that is full within the first seconds, so that the RSS
		// without viewers already holds it.
		s, err := startSluice(bin, 2000)
		if err != nil {
			return err
		}
		defer s.stop()
		return viewersRun(s, viewers, rate, duration)
	}
	return nil
}

func startSluice(bin string, maxLines int) (*server, error) {
	dir, err := os.MkdirTemp("", "livebench")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "sluice.yaml")
	yaml := fmt.Sprintf(`data_dir: %s/data
api: { listen: "127.0.0.1:0" }
sources:
  in: { type: http, address: "127.0.0.1:0", format: ndjson }
sinks:
  live: { type: live, inputs: [ in ], max_lines: %d, max_bytes: 512MiB }
`, dir, maxLines)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready.json")
	cmd := exec.Command(bin, "run", "-c", cfg, "--ready-file", ready)
	logf, err := os.Create(filepath.Join(dir, "sluice.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr, cmd.Stdout = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, dir: dir}
	var info struct {
		API       string              `json:"api"`
		Listeners map[string][]string `json:"listeners"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		data, err := os.ReadFile(ready)
		if err == nil && json.Unmarshal(data, &info) == nil && len(info.Listeners["in"]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("sluice did not get ready in 30s")
		}
		time.Sleep(50 * time.Millisecond) // polling another process's file: nothing signals it
	}
	s.api, s.ingest = "http://"+info.API, "http://"+info.Listeners["in"][0]
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	if os.Getenv("LIVEBENCH_KEEP") == "" {
		_ = os.RemoveAll(s.dir)
	} else {
		fmt.Fprintln(os.Stderr, "livebench: kept", s.dir)
	}
}

// ingestClient opens a connection per POST: reused connections met EOFs
// from the http source now and then, which are not what is measured here.
var ingestClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// post sends lines from..to-1 of stream in NDJSON bodies of 1000.
func (s *server) post(stream string, from, to int) error {
	var body bytes.Buffer
	for i := from; i < to; {
		body.Reset()
		for j := 0; j < 1000 && i < to; j, i = j+1, i+1 {
			fmt.Fprintf(&body, `{"stream":%q,"message":"GET /api/v1/users?id=%d HTTP/1.1 200 %d rt=0.012 ua=Mozilla/5.0 (X11; Linux x86_64)"}`+"\n",
				stream, i, i%50000)
		}
		resp, err := ingestClient.Post(s.ingest, "application/x-ndjson", &body)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("ingest answered %s", resp.Status)
		}
	}
	return nil
}

// throughput times n lines from the ingest POSTs to `sluice tail`'s output.
func throughput(bin string, s *server, n int, tailArgs ...string) error {
	tail := exec.Command(bin, append([]string{"tail", "--server", s.api, "--stream", "tp", "--last", "0"}, tailArgs...)...)
	out, err := tail.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &syncBuf{}
	tail.Stderr = stderr
	if err := tail.Start(); err != nil {
		return err
	}
	defer func() { _ = tail.Process.Kill(); _ = tail.Wait() }()
	lines := make(chan struct{}, 1024)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- struct{}{}
		}
		close(lines)
	}()
	// Warm up until tail is connected and printing.
	for i := 0; ; i++ {
		if err := s.post("tp", i, i+1); err != nil {
			return err
		}
		select {
		case <-lines:
		case <-time.After(200 * time.Millisecond):
			continue
		}
		break
	}
	for len(lines) > 0 {
		<-lines
	}
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- s.post("tp", 1000000, 1000000+n) }()
	got := 0
	timeout := time.After(5 * time.Minute)
	check := time.NewTicker(20 * time.Millisecond)
	defer check.Stop()
	for got < n {
		select {
		case _, ok := <-lines:
			if !ok {
				return fmt.Errorf("tail ended after %d lines: %s", got, stderr.String())
			}
			got++
		case <-check.C:
			if got+skippedOf(stderr.String()) >= n {
				n = got + skippedOf(stderr.String()) // done: the rest was skipped
			}
		case <-timeout:
			return fmt.Errorf("only %d of %d lines in 5 minutes", got, n)
		}
	}
	el := time.Since(start)
	if err := <-errc; err != nil {
		return err
	}
	fmt.Printf("throughput (tail %s): %d lines ingested over HTTP, %d printed by sluice tail in %.2fs: %.0f lines/s; skipped: %d\n",
		strings.Join(tailArgs, " "), n, got, el.Seconds(), float64(got)/el.Seconds(), skippedOf(stderr.String()))
	return nil
}

// skippedOf sums the "N lines skipped" reports of tail's stderr.
func skippedOf(stderr string) int {
	total := 0
	for _, line := range strings.Split(stderr, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[3] == "skipped" {
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total
}

// syncBuf is a writer safe to read while a process writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// viewersRun measures sluice's RSS with lines arriving at rate, first
// without viewers, then with `viewers` followers.
func viewersRun(s *server, viewers, rate int, duration time.Duration) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int64
	go feed(ctx, s, rate, &sent)
	time.Sleep(5 * time.Second) // the backlog fills
	base := sampleRSS(s.cmd.Process.Pid, duration/3)
	var wg sync.WaitGroup
	var lines, skipped atomic.Int64
	for range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			follow(ctx, s.api+"/api/v1/live/follow?stream=v", &lines, &skipped)
		}()
	}
	with := sampleRSS(s.cmd.Process.Pid, duration)
	cancel()
	wg.Wait()
	fmt.Printf("viewers: %d followers of one stream at %d lines/s for %v: RSS without viewers %.1f MiB, with %.1f MiB: %.1f KiB per viewer; "+
		"lines sent %d, delivered to viewers %d (%.0f per viewer), skipped %d\n",
		viewers, rate, duration, base/1024, with/1024, (with-base)/float64(viewers), sent.Load(), lines.Load(),
		float64(lines.Load())/float64(viewers), skipped.Load())
	return nil
}

// feed posts rate lines per second in 10 batches a second.
func feed(ctx context.Context, s *server, rate int, sent *atomic.Int64) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	i := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := s.post("v", i, i+rate/10); err != nil {
			fmt.Fprintln(os.Stderr, "livebench: feeding:", err)
			return
		}
		i += rate / 10
		sent.Store(int64(i))
	}
}

// follow reads one SSE follow stream, counting lines and skipped lines.
func follow(ctx context.Context, url string, lines, skipped *atomic.Int64) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		b := sc.Bytes()
		lines.Add(int64(bytes.Count(b, []byte(`"seq":`))))
		if i := bytes.Index(b, []byte(`"skipped":`)); i >= 0 {
			v, _ := strconv.Atoi(strings.TrimRight(string(b[i+10:i+10+bytes.IndexByte(b[i+10:], ',')]), "}"))
			skipped.Add(int64(v))
		}
	}
}

// sampleRSS returns the mean RSS in KiB over d, sampled every 500ms.
func sampleRSS(pid int, d time.Duration) float64 {
	var sum, k float64
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			break
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				f, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
				sum, k = sum+f, k+1
			}
		}
	}
	return sum / max(k, 1)
}
