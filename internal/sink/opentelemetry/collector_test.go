package opentelemetry

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluice-log/sluice/internal/testutil"
)

// The round trip against real OpenTelemetry code: the official Go SDK's
// OTLP log exporters (otlploghttp, otlploggrpc; test/otelcol/cmd/otelsend)
// send internal/otlp/testdata/records.json to sluice's opentelemetry
// source; two opentelemetry sinks (protocol http and grpc) send to an
// OpenTelemetry Collector
// built from its Go modules (test/otelcol: otlp receiver, an exporter
// writing OTLP/JSON lines); what the collector wrote must equal what was
// sent, record by record.

const sample = "../../otlp/testdata/records.json"

var (
	peersOnce sync.Once
	peersDir  string
	peersErr  error
	binOnce   sync.Once
	binPath   string
	binErr    error
)

// otelPeers returns the directory of otelcol-sluice and otelsend, built
// once and cached by test/otelcol/build.sh.
func otelPeers(t *testing.T) string {
	t.Helper()
	testutil.SkipIfShort(t)
	peersOnce.Do(func() {
		if _, err := exec.LookPath("go"); err != nil {
			peersErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command("bash", "../../../test/otelcol/build.sh")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			peersErr = fmt.Errorf("building the test collector: %v\n%s", err, stderr.String())
			return
		}
		peersDir = strings.TrimSpace(string(out))
	})
	if peersErr != nil {
		testutil.RequireCI(t, peersErr.Error())
	}
	return peersDir
}

// sluiceBin returns $SLUICE_BIN or a binary built once for this run.
func sluiceBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SLUICE_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-otel")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		cmd := exec.Command("go", "build", "-o", binPath, "../../../cmd/sluice")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// startProc runs a program until the test ends, logging its output on
// failure.
func startProc(t *testing.T, name string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	var mu sync.Mutex
	cmd := exec.Command(name, args...)
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
			mu.Unlock()
		}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func waitListening(t *testing.T, port int) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, fmt.Sprintf("port %d to listen", port), func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
}

func TestRoundTripThroughCollector(t *testing.T) {
	peers := otelPeers(t)
	bin := sluiceBin(t)
	dir := t.TempDir()
	colPort, colGRPCPort, httpPort, grpcPort := testutil.FreePort(t, "tcp"), testutil.FreePort(t, "tcp"), testutil.FreePort(t, "tcp"), testutil.FreePort(t, "tcp")
	out := filepath.Join(dir, "collector.jsonl")
	colCfg := filepath.Join(dir, "otelcol.yaml")
	writeFile(t, colCfg, fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:%d" }
      grpc: { endpoint: "127.0.0.1:%d" }
exporters:
  jsonfile: { path: %q }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    logs: { receivers: [otlp], exporters: [jsonfile] }
`, colPort, colGRPCPort, out))
	startProc(t, filepath.Join(peers, "otelcol-sluice"), "--config", colCfg)
	sluiceCfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, sluiceCfg, fmt.Sprintf(`data_dir: %q
api: { listen: "127.0.0.1:0" }
sources:
  otel:
    type: opentelemetry
    address: 127.0.0.1:%d
    grpc_address: 127.0.0.1:%d
sinks:
  collector:
    type: opentelemetry
    inputs: [otel]
    url: http://127.0.0.1:%d
  collector_grpc:
    type: opentelemetry
    inputs: [otel]
    protocol: grpc
    url: http://127.0.0.1:%d
`, dir, httpPort, grpcPort, colPort, colGRPCPort))
	startProc(t, bin, "run", "-c", sluiceCfg)
	waitListening(t, colPort)
	waitListening(t, colGRPCPort)
	waitListening(t, httpPort)
	waitListening(t, grpcPort)

	want := canonical(t, readSample(t))
	for i, tc := range []struct{ protocol, port string }{{"http", fmt.Sprint(httpPort)}, {"grpc", fmt.Sprint(grpcPort)}} {
		cmd := exec.Command(filepath.Join(peers, "otelsend"), "-protocol", tc.protocol, "-endpoint", "127.0.0.1:"+tc.port, "-in", sample)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("otelsend over %s: %v\n%s", tc.protocol, err, b)
		}
		var got []string
		testutil.WaitFor(t, 30*time.Second, "the collector to write every record", func() bool {
			got = canonical(t, readCollector(t, out))
			return len(got) >= 2*(i+1)*len(want)
		})
		// Each record reaches the collector twice, through the sink over
		// OTLP/HTTP and the one over OTLP/gRPC. The SDK sends each record
		// in its own request (simple processor), so compare as sorted
		// lists of whole records.
		var wantAll []string
		for range 2 * (i + 1) {
			wantAll = append(wantAll, want...)
		}
		slices.Sort(wantAll)
		testutil.Diff(t, wantAll, got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSample(t *testing.T) []plog.Logs {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(data)
	if err != nil {
		t.Fatal(err)
	}
	return []plog.Logs{ld}
}

func readCollector(t *testing.T, path string) []plog.Logs {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []plog.Logs
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(sc.Bytes())
		if err != nil {
			t.Fatalf("collector output: %v", err)
		}
		out = append(out, ld)
	}
	return out
}

// canonical renders every record with its resource and scope as one JSON
// document with attributes as maps (the SDK sorts attribute sets, so
// their order is not part of the comparison), sorted.
func canonical(t *testing.T, lds []plog.Logs) []string {
	var out []string
	for _, ld := range lds {
		rls := ld.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			rl := rls.At(i)
			sls := rl.ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				sl := sls.At(j)
				lrs := sl.LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					tid, sid := lr.TraceID(), lr.SpanID()
					doc := map[string]any{
						"resource":      rl.Resource().Attributes().AsRaw(),
						"scope":         []any{sl.Scope().Name(), sl.Scope().Version(), sl.Scope().Attributes().AsRaw()},
						"time":          uint64(lr.Timestamp()),
						"observed":      uint64(lr.ObservedTimestamp()),
						"severity":      int32(lr.SeverityNumber()),
						"severity_text": lr.SeverityText(),
						"event_name":    lr.EventName(),
						"body":          lr.Body().AsRaw(),
						"attributes":    lr.Attributes().AsRaw(),
						"trace_id":      hex.EncodeToString(tid[:]),
						"span_id":       hex.EncodeToString(sid[:]),
						"flags":         uint32(lr.Flags()),
					}
					b, err := json.Marshal(doc)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, string(b))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
