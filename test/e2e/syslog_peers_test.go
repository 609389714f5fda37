package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// The syslog tests run the real programs through the scripts in
// test/peers, each in its own temp dir, and count every message in and
// out. Nothing probes for a free port: sluice listens on port 0 and the
// tests read its ports from the ready file; the peer receivers take port 0
// too and write theirs to DIR/recv.port, and nginx serves a unix socket.

const peerWait = 30 * time.Second

// peerScript returns the path of a test/peers script.
func peerScript(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "peers", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// requirePeer skips (fails in CI) when a program is not installed.
func requirePeer(t *testing.T, program string) {
	t.Helper()
	if program == "rsyslogd" {
		cmd := exec.Command("bash", "-c", ". "+peerScript(t, "lib.sh")+" && find_rsyslogd")
		if cmd.Run() != nil {
			testutil.RequireCI(t, "rsyslogd is not installed (scripts/install-test-deps.sh)")
		}
		return
	}
	if _, err := exec.LookPath(program); err != nil {
		if _, err := os.Stat("/usr/sbin/" + program); err != nil {
			testutil.RequireCI(t, program+" is not installed (scripts/install-test-deps.sh)")
		}
	}
}

// peer runs `script cmd dir args...`, which starts a program and returns,
// and stops it when the test ends.
func peer(t *testing.T, script, cmd, dir string, env []string, args ...string) {
	t.Helper()
	path := peerScript(t, script)
	ctx, cancel := context.WithTimeout(t.Context(), peerWait)
	defer cancel()
	c := exec.CommandContext(ctx, path, append([]string{cmd, dir}, args...)...)
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	t.Cleanup(func() {
		if out, err := exec.Command(path, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("%s stop: %v\n%s", script, err, out)
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "*.stderr"))
			for _, l := range logs {
				t.Logf("%s:\n%s", l, readFile(t, l))
			}
		}
	})
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", script, cmd, err, out)
	}
}

// peerPortFile reads the port a peer receiver started on port 0 got, from
// the DIR/recv.port its script wrote.
func peerPortFile(t *testing.T, dir string) int {
	t.Helper()
	port, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "recv.port"))))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startSluice writes the config (with data_dir and an api on port 0) and
// runs sluice until its ready file says every source listens; the
// sources' ports are then p.port(id).
func startSluice(t *testing.T, dir, body string) *proc {
	t.Helper()
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf("data_dir: %s/data\napi: { listen: \"127.0.0.1:0\" }\n%s", dir, body))
	validateConfig(t, cfg)
	p := start(t, cfg, nil)
	p.ready()
	return p
}

// validateConfig runs `sluice validate` first, for a clear failure when
// the binary lacks a component (the syslog sink must be imported by
// internal/all).
func validateConfig(t *testing.T, cfg string) {
	t.Helper()
	if out, err := exec.Command(sluiceBin(t), "validate", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("sluice validate: %v\n%s", err, out)
	}
}

// jsonLines reads a file of JSON objects, one per line.
func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// fileLines returns the lines of path (none when it does not exist).
func fileLines(path string) []string {
	data, _ := os.ReadFile(path)
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitLines waits until path has at least n lines and returns them. It
// cannot tell that no more will come: compare the whole file (fileLines)
// only after every program writing to it has stopped.
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	var got []string
	waitFor(t, peerWait, fmt.Sprintf("%d lines in %s", n, path), func() bool {
		got = fileLines(path)
		return len(got) >= n
	})
	return got
}

// stopPeer stops what `script` started in dir, flushing its output files.
func stopPeer(t *testing.T, script, dir string) {
	t.Helper()
	if out, err := exec.Command(peerScript(t, script), "stop", dir).CombinedOutput(); err != nil {
		t.Fatalf("%s stop: %v\n%s", script, err, out)
	}
}

// str returns a JSON value as a string ("" when absent).
func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// TestLoggerToSluice sends with util-linux logger over TCP (octet counted,
// RFC 5424) and UDP (RFC 3164) into the built binary and checks every
// event's fields in the json file output.
func TestLoggerToSluice(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "logger")
	dir := t.TempDir()
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  tcp: { type: syslog, mode: tcp, address: "127.0.0.1:0", timezone: UTC }
  udp: { type: syslog, mode: udp, address: "127.0.0.1:0", timezone: UTC }
sinks:
  out: { type: file, inputs: [ tcp, udp ], path: "%s/out.json", encoding: json, batch: { timeout: 50ms } }
`, dir))
	tcp, udp := p.port("tcp"), p.port("udp")

	tcpLines, udpLines := numbered("tcp line", 200), numbered("udp line", 20)
	runLoggerCmd(t, strings.Join(tcpLines, "\n")+"\n", "-n", "127.0.0.1", "-P", itoa(tcp), "-T", "--octet-count",
		"--rfc5424=notq", "-t", "myapp", "-p", "local3.warning", "--msgid", "MID", "--sd-id", "ex@32473", "--sd-param", `k="v"`)
	runLoggerCmd(t, strings.Join(udpLines, "\n")+"\n", "-n", "127.0.0.1", "-P", itoa(udp), "-d", "--rfc3164",
		"-t", "udpapp", "-p", "daemon.err")

	waitLines(t, filepath.Join(dir, "out.json"), 220)
	p.stop(syscall.SIGTERM) // out.json is complete: nothing more can come
	hostname, _ := os.Hostname()
	var gotTCP, gotUDP []string
	for _, e := range jsonLines(t, filepath.Join(dir, "out.json")) {
		fields := []string{str(e, "host"), str(e, "stream"), str(e, "appname"), str(e, "facility"), str(e, "severity"),
			str(e, "msgid"), str(e, "sd"), str(e, "syslog_format")}
		if str(e, "appname") == "myapp" {
			gotTCP = append(gotTCP, str(e, "message"))
			testutil.Diff(t, []string{hostname, "myapp", "myapp", "local3", "warning", "MID", `{"ex@32473":{"k":"v"}}`, "rfc5424"}, fields)
		} else {
			gotUDP = append(gotUDP, str(e, "message"))
			testutil.Diff(t, []string{hostname, "udpapp", "udpapp", "daemon", "err", "", "", "rfc3164"}, fields)
		}
		if t.Failed() {
			t.Fatalf("event: %v", e)
		}
	}
	testutil.Diff(t, tcpLines, gotTCP) // TCP keeps the order
	testutil.Diff(t, len(udpLines), len(gotUDP))
}

func runLoggerCmd(t *testing.T, stdin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), peerWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "logger", append([]string{"--socket-errors=on"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger: %v\n%s", err, out)
	}
}

// TestRsyslogToSluice has rsyslog forward a file with omfwd, octet counted
// RFC 5424 over TCP, into sluice's syslog source.
func TestRsyslogToSluice(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "rsyslogd")
	dir := t.TempDir()
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  syslog: { type: syslog, mode: tcp, address: "127.0.0.1:0" }
sinks:
  out: { type: file, inputs: [ syslog ], path: "%s/out.json", encoding: json, batch: { timeout: 50ms } }
`, dir))
	rs := filepath.Join(dir, "rsyslog")
	peer(t, "rsyslog.sh", "forwarder", rs, nil, itoa(p.port("syslog")))

	lines := numbered("rsyslog line with spaces and ünïcode", 1000)
	writeFile(t, filepath.Join(rs, "in.log"), strings.Join(lines, "\n")+"\n")
	waitLines(t, filepath.Join(dir, "out.json"), len(lines))
	stopPeer(t, "rsyslog.sh", rs)
	p.stop(syscall.SIGTERM) // out.json is complete: nothing more can come
	var got []string
	for _, e := range jsonLines(t, filepath.Join(dir, "out.json")) {
		// RSYSLOG_SyslogProtocol23Format ends with a newline, which omfwd
		// counts into the frame; the source keeps MSG byte for byte.
		got = append(got, strings.TrimSuffix(str(e, "message"), "\n"))
		if str(e, "appname") != "app" || str(e, "syslog_format") != "rfc5424" || str(e, "facility") != "local0" {
			t.Fatalf("unexpected fields: %v", e)
		}
	}
	testutil.Diff(t, lines, got)
}

// postEvents posts NDJSON events to sluice's http source; it answers only
// once every sink has taken them.
func postEvents(t *testing.T, port int, events []map[string]any) {
	t.Helper()
	if err := post(port, events); err != nil {
		t.Fatal(err)
	}
}

func post(port int, events []map[string]any) error {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/", port), "application/x-ndjson", &body)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("posting events: %s", resp.Status)
	}
	return nil
}

// sinkEvents are n events with syslog fields for the sink tests; the first
// message has a newline in it.
func sinkEvents(n int) ([]map[string]any, []string) {
	var evs []map[string]any
	msgs := numbered(`message "quoted" [bracketed] ünïcode`, n)
	msgs[0] = "two\nlines"
	for i, m := range msgs {
		evs = append(evs, map[string]any{"message": m, "host": "web1", "stream": "shop",
			"facility": "local4", "severity": "warning", "procid": "42", "msgid": "REQ",
			"sd": map[string]any{"req@32473": map[string]any{"id": itoa(i)}}})
	}
	return evs, msgs
}

// rsyslogLines is what the rsyslog receiver's fields template writes for
// the messages of sinkEvents, numbered from first.
func rsyslogLines(msgs []string, first int) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = fmt.Sprintf(`web1|shop|42|REQ|local4|warning|[req@32473 id="%d"]|%s`, first+i, m)
	}
	return out
}

// TestSluiceToRsyslog sends events through the syslog sink, octet counted
// and newline framed, to rsyslog's imtcp and checks what rsyslog parsed;
// then rsyslog restarts and nothing sent meanwhile is lost.
func TestSluiceToRsyslog(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "rsyslogd")
	dir := t.TempDir()
	octDir, lfDir := filepath.Join(dir, "oct"), filepath.Join(dir, "lf")
	peer(t, "rsyslog.sh", "receiver", octDir, nil, "0", "fields")
	peer(t, "rsyslog.sh", "receiver", lfDir, nil, "0", "fields")
	octPort, lfPort := peerPortFile(t, octDir), peerPortFile(t, lfDir)
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  in: { type: http, address: "127.0.0.1:0" }
sinks:
  oct:
    type: syslog
    inputs: [ in ]
    url: syslog+tcp://127.0.0.1:%d
    batch: { timeout: 20ms }
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
  lf:
    type: syslog
    inputs: [ in ]
    mode: tcp
    address: 127.0.0.1:%d
    framing: lf
    batch: { timeout: 20ms }
`, octPort, lfPort))
	in := p.port("in")

	evs, msgs := sinkEvents(600)
	// rsyslog escapes the control character a counted frame carries; the
	// newline framing had to turn it into a space.
	want := map[string][]string{"oct": rsyslogLines(msgs, 0), "lf": rsyslogLines(msgs, 0)}
	want["oct"][0] = strings.Replace(want["oct"][0], "two\nlines", "two#012lines", 1)
	want["lf"][0] = strings.Replace(want["lf"][0], "two\nlines", "two lines", 1)
	for i := 0; i < 500; i += 100 {
		postEvents(t, in, evs[i:i+100])
	}
	for _, framing := range []string{"oct", "lf"} {
		got := waitLines(t, filepath.Join(dir, framing, "recv.log"), 500)
		testutil.Diff(t, want[framing][:500], got[:500])
	}

	// rsyslog goes away; the next batch waits in sluice (the http source
	// answers once both sinks took them) until rsyslog is back.
	stopPeer(t, "rsyslog.sh", octDir)
	retries := func() float64 { return metric(t, p.api(), `sluice_sink_retries_total{component_id="oct"`) }
	before := retries()
	posted := make(chan error, 1)
	go func() { posted <- post(in, evs[500:]) }()
	waitFor(t, peerWait, "the oct sink to retry while rsyslog is down", func() bool {
		select {
		case err := <-posted:
			t.Fatalf("events were answered (%v) while rsyslog was down", err)
		default:
		}
		return retries() > before
	})
	// Back on the same port, which sluice's sink is configured with.
	peer(t, "rsyslog.sh", "receiver", octDir, nil, itoa(octPort), "fields")
	if err := <-posted; err != nil {
		t.Fatal(err)
	}
	// Both sinks took every event: once sluice and rsyslog have stopped,
	// the files are complete.
	p.stop(syscall.SIGTERM)
	stopPeer(t, "rsyslog.sh", octDir)
	stopPeer(t, "rsyslog.sh", lfDir)
	for _, framing := range []string{"oct", "lf"} {
		testutil.Diff(t, want[framing], fileLines(filepath.Join(dir, framing, "recv.log")))
	}
}

// TestSyslogNGToSluiceTLS has syslog-ng send a file over TLS (RFC 5425),
// verifying sluice's certificate against the CA, into sluice's source.
func TestSyslogNGToSluiceTLS(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "syslog-ng")
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  tls:
    type: syslog
    mode: tls
    address: "127.0.0.1:0"
    tls: { cert: "%s", key: "%s" }
sinks:
  out: { type: file, inputs: [ tls ], path: "%s/out.json", encoding: json, batch: { timeout: 50ms } }
`, ca.cert, ca.key, dir))
	sng := filepath.Join(dir, "sng")
	peer(t, "syslog-ng.sh", "sender-tls", sng, nil, itoa(p.port("tls")), ca.ca)

	lines := numbered("syslog-ng over tls", 1000)
	writeFile(t, filepath.Join(sng, "in.log"), strings.Join(lines, "\n")+"\n")
	waitLines(t, filepath.Join(dir, "out.json"), len(lines))
	stopPeer(t, "syslog-ng.sh", sng)
	p.stop(syscall.SIGTERM) // out.json is complete: nothing more can come
	var got []string
	for _, e := range jsonLines(t, filepath.Join(dir, "out.json")) {
		// syslog-ng's syslog() driver ends every counted frame with a
		// newline, inside the count; the source keeps MSG byte for byte.
		got = append(got, strings.TrimSuffix(str(e, "message"), "\n"))
		if str(e, "appname") != "app" || str(e, "syslog_format") != "rfc5424" {
			t.Fatalf("unexpected fields: %v", e)
		}
	}
	testutil.Diff(t, lines, got)
}

// TestSluiceToSyslogNGTLS sends through the syslog sink over TLS to
// syslog-ng, verifying syslog-ng's certificate against the CA.
func TestSluiceToSyslogNGTLS(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "syslog-ng")
	dir := t.TempDir()
	sng := filepath.Join(dir, "sng")
	if err := mkdir(sng); err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, sng) // syslog-ng.sh uses sng/tls.crt and sng/tls.key
	peer(t, "syslog-ng.sh", "receiver", sng, nil, "-", "-", "0")
	tlsPort := peerPortFile(t, sng)
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  in: { type: http, address: "127.0.0.1:0" }
sinks:
  sng:
    type: syslog
    inputs: [ in ]
    url: syslog+tls://127.0.0.1:%d?ca=%s
    batch: { timeout: 20ms }
`, tlsPort, ca.ca))

	evs, msgs := sinkEvents(500)
	for i := 0; i < len(evs); i += 100 {
		postEvents(t, p.port("in"), evs[i:i+100])
	}
	var want []string
	for i, m := range msgs {
		want = append(want, fmt.Sprintf(`web1|shop|42|REQ|local4|warning|[req@32473 id="%d"]|%s`, i, m))
	}
	// syslog-ng's file() writes the newline of the first message as is.
	want = strings.Split(strings.Join(want, "\n"), "\n")
	waitLines(t, filepath.Join(sng, "recv.log"), len(want))
	p.stop(syscall.SIGTERM)
	stopPeer(t, "syslog-ng.sh", sng) // recv.log is complete
	testutil.Diff(t, want, fileLines(filepath.Join(sng, "recv.log")))
}

// TestNginxToSluice has nginx log its access lines as syslog over UDP into
// sluice, next to its own access.log, and compares the two.
func TestNginxToSluice(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "nginx")
	dir := t.TempDir()
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  nginx: { type: syslog, mode: udp, address: "127.0.0.1:0" }
sinks:
  out: { type: file, inputs: [ nginx ], path: "%s/out.json", encoding: json, batch: { timeout: 50ms } }
`, dir))
	ngx := filepath.Join(dir, "nginx")
	sock := filepath.Join(ngx, "http.sock")
	peer(t, "nginx.sh", "start", ngx, nil, "unix:"+sock, itoa(p.port("nginx")))
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer client.CloseIdleConnections()

	const requests = 100
	for i := range requests {
		resp, err := client.Get(fmt.Sprintf("http://nginx/index.html?req=%d", i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitLines(t, filepath.Join(ngx, "access.log"), requests)
	waitLines(t, filepath.Join(dir, "out.json"), requests)
	stopPeer(t, "nginx.sh", ngx)
	p.stop(syscall.SIGTERM) // both logs are complete: nothing more can come
	access := fileLines(filepath.Join(ngx, "access.log"))
	var got []string
	for _, e := range jsonLines(t, filepath.Join(dir, "out.json")) {
		got = append(got, str(e, "message"))
		f := []string{str(e, "appname"), str(e, "stream"), str(e, "facility"), str(e, "severity"), str(e, "syslog_format")}
		testutil.Diff(t, []string{"nginx", "nginx", "local7", "info", "rfc3164"}, f)
	}
	testutil.Diff(t, access, got)
}

// testCA is a CA and a certificate it signed for 127.0.0.1 and localhost,
// as PEM files.
type testCA struct{ ca, cert, key string }

// newTestCA writes ca.pem, tls.crt and tls.key into dir.
func newTestCA(t *testing.T, dir string) testCA {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, leafKey := key(), key()
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return testCA{ca: write("ca.pem", "CERTIFICATE", caDER), cert: write("tls.crt", "CERTIFICATE", leafDER),
		key: write("tls.key", "EC PRIVATE KEY", keyDER)}
}
