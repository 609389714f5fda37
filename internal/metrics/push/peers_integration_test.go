package push

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// The real peers (scripts/install-test-deps.sh unpacks them into
// /opt/sluice-peers and puts wrappers in its bin/, which `make test` puts
// first on PATH): each runs from a temp dir on loopback ports found free
// just before, and is stopped by its PID when the test ends.

const peerWait = 30 * time.Second

// peerBin finds a peer program on PATH, else in $SLUICE_PEERS_ROOT/bin;
// it skips the test (fails it under CI=true) when there is none.
func peerBin(t *testing.T, name string) string {
	t.Helper()
	testutil.SkipIfShort(t)
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	root := os.Getenv("SLUICE_PEERS_ROOT")
	if root == "" {
		root = "/opt/sluice-peers"
	}
	if p := filepath.Join(root, "bin", name); isExec(p) {
		return p
	}
	testutil.RequireCI(t, name+" is not installed (scripts/install-test-deps.sh)")
	return ""
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// proc is a peer process; stop ends it by its PID (TERM, then KILL).
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func startProc(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	logf := filepath.Join(dir, filepath.Base(bin)+".log")
	f, err := os.OpenFile(logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = f, f, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(logf)
			t.Logf("%s:\n%s", logf, tail(string(b), 3000))
		}
	})
	return p
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// vm is a VictoriaMetrics single node with its HTTP API and graphite
// listener.
type vm struct {
	dir            string
	http, graphite int
	p              *proc
}

func startVM(t *testing.T, v *vm) *vm {
	t.Helper()
	bin := peerBin(t, "victoria-metrics")
	if v == nil {
		v = &vm{dir: t.TempDir(), http: testutil.FreePort(t, "tcp"), graphite: testutil.FreePort(t, "tcp")}
	}
	v.p = startProc(t, v.dir, bin, "-storageDataPath="+filepath.Join(v.dir, "data"), "-retentionPeriod=1d",
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", v.http), fmt.Sprintf("-graphiteListenAddr=127.0.0.1:%d", v.graphite),
		"-search.latencyOffset=1s", "-loggerLevel=WARN")
	testutil.WaitFor(t, peerWait, "victoria-metrics ready", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", v.http))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return v
}

// vmSeries is one series of /api/v1/export.
type vmSeries struct {
	Metric map[string]string `json:"metric"`
	Values []float64         `json:"values"`
}

// export returns the series matching match, after a flush so that what
// was just ingested is searchable.
func (v *vm) export(t *testing.T, match string) []vmSeries {
	t.Helper()
	base := fmt.Sprintf("http://127.0.0.1:%d", v.http)
	if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.PostForm(base+"/api/v1/export", url.Values{"match[]": {match}})
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []vmSeries
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s vmSeries
		if json.Unmarshal(sc.Bytes(), &s) == nil {
			out = append(out, s)
		}
	}
	return out
}

// latest renders each series as "labels value" with its newest value,
// labels sorted (encoding/json sorts map keys).
func latest(ss []vmSeries) map[string]float64 {
	out := map[string]float64{}
	for _, s := range ss {
		k, _ := json.Marshal(s.Metric)
		if len(s.Values) > 0 {
			out[string(k)] = s.Values[len(s.Values)-1]
		}
	}
	return out
}

// collectdPeer is a collectd with the network plugin listening on UDP, the
// unixsock plugin, and the csv plugin writing every value it gets.
type collectdPeer struct {
	dir, sock string
	port      int
}

func startCollectd(t *testing.T) *collectdPeer {
	t.Helper()
	bin := peerBin(t, "collectd")
	plugins, types := collectdPaths(t, bin)
	c := &collectdPeer{dir: t.TempDir(), port: testutil.FreePort(t, "udp")}
	c.sock = filepath.Join(c.dir, "collectd.sock")
	conf := fmt.Sprintf(`Hostname "peer"
FQDNLookup false
BaseDir %[1]q
PIDFile "%[1]s/collectd.pid"
PluginDir %[2]q
TypesDB %[3]q
Interval 1
AutoLoadPlugin false
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "%[1]s/collectd.log"
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile %[4]q
</Plugin>
LoadPlugin network
<Plugin network>
  Listen "127.0.0.1" "%[5]d"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "%[1]s/csv"
  StoreRates false
</Plugin>
`, c.dir, plugins, types, c.sock, c.port)
	cf := filepath.Join(c.dir, "collectd.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-C", cf).CombinedOutput(); err != nil {
		t.Fatalf("collectd -t: %v\n%s", err, out)
	}
	startProc(t, c.dir, bin, "-f", "-C", cf)
	testutil.WaitFor(t, peerWait, "collectd's unixsock", func() bool {
		_, err := os.Stat(c.sock)
		return err == nil
	})
	return c
}

// collectdPaths returns collectd's PluginDir and TypesDB: under the root
// the install script's wrapper names ("# sluice-peer-root:"), else the
// host's /usr/lib/collectd and /usr/share/collectd/types.db.
func collectdPaths(t *testing.T, bin string) (string, string) {
	root := ""
	if b, err := os.ReadFile(bin); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if r, ok := strings.CutPrefix(l, "# sluice-peer-root: "); ok {
				root = r
			}
		}
	}
	return root + "/usr/lib/collectd", root + "/usr/share/collectd/types.db"
}

// csvLast returns the last value collectd's csv plugin wrote for
// host/pluginDir/typeFile ("" when none yet).
func (c *collectdPeer) csvLast(host, pluginDir, typeFile string) string {
	files, _ := filepath.Glob(filepath.Join(c.dir, "csv", host, pluginDir, typeFile+"-*"))
	if len(files) == 0 {
		return ""
	}
	b, _ := os.ReadFile(files[len(files)-1])
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	_, v, _ := strings.Cut(string(lines[len(lines)-1]), ",")
	return v
}
