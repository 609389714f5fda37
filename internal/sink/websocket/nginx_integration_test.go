package wssink

import (
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // nginx's {SSHA} password scheme, test only
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/config"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

// nginx is a real nginx terminating TLS with basic auth in front of a
// websocket source, as test/peers/nginx.sh runs it.
type nginx struct {
	dir, conf, port string
	cmd             *exec.Cmd
}

func startNginx(t *testing.T, p pki, backend string) *nginx {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err != nil {
		testutil.RequireCI(t, "nginx is not on PATH (scripts/install-test-deps.sh puts it in /opt/sluice-peers/bin)")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	sum := sha1.Sum(append([]byte("proxy-pass"), salt...)) //nolint:gosec // see import
	htpasswd := "relay:{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(htpasswd), 0o644); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must read the 0700 temp dir
	}
	conf := fmt.Sprintf(`%[1]s
worker_processes 1;
worker_shutdown_timeout 1s;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path %[2]s/body; proxy_temp_path %[2]s/proxy; fastcgi_temp_path %[2]s/fcgi;
  uwsgi_temp_path %[2]s/uwsgi; scgi_temp_path %[2]s/scgi;
  access_log %[2]s/access.log;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:%[3]s ssl;
    ssl_certificate %[4]s; ssl_certificate_key %[5]s;
    auth_basic "relay"; auth_basic_user_file %[2]s/htpasswd;
    location /relay {
      proxy_pass http://%[6]s;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s;
    }
  }
}
`, user, dir, port, p.cert, p.key, backend)
	n := &nginx{dir: dir, conf: filepath.Join(dir, "nginx.conf"), port: port}
	if err := os.WriteFile(n.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nginx", "-t", "-q", "-p", dir, "-e", dir+"/error.log", "-c", n.conf).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	n.start(t)
	t.Cleanup(func() { n.stop(t) })
	return n
}

// start runs nginx in the foreground (our child) and waits for its port.
func (n *nginx) start(t *testing.T) {
	t.Helper()
	n.cmd = exec.Command("nginx", "-p", n.dir, "-e", n.dir+"/error.log", "-c", n.conf, "-g", "daemon off;")
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, os.Stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var err error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 100 {
		var c net.Conn
		if c, err = net.Dial("tcp", "127.0.0.1:"+n.port); err == nil {
			c.Close()
			return
		}
		<-tick.C // nginx has not bound its port yet
	}
	log, _ := os.ReadFile(n.dir + "/error.log")
	t.Fatalf("nginx not listening on %s: %v\n%s", n.port, err, log)
}

// stop shuts nginx down gracefully (QUIT), killing it if it lingers.
func (n *nginx) stop(t *testing.T) {
	t.Helper()
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("nginx exited after QUIT: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		t.Errorf("nginx did not quit within 10s (killed: %v)", <-done)
	}
	n.cmd = nil
}

// TestThroughNginx relays through nginx terminating TLS with basic auth,
// and restarts nginx while a batch waits for its receipt: the sink
// reconnects and resends, the receiver recognises the resent batch, and
// no event is lost or duplicated.
func TestThroughNginx(t *testing.T) {
	testutil.SkipIfShort(t)
	p := newPKI(t)
	const batches, size, holdAt = 30, 100, 10
	rec := &recorder{hold: holdAt, emitted: make(chan int, batches+5)}
	rcv := startReceiver(t, "127.0.0.1:0", rec.emit, func(c *wssource.Config) {
		c.Auth = config.Auth{Tokens: []config.Secret{"relay-token"}}
		c.MaxMessageSize = 2 << 20
	})
	ngx := startNginx(t, p, rcv.addr)
	url := "wss://127.0.0.1:" + ngx.port + "/relay"

	bad := newTestSink(t, url, func(c *Config) { c.User, c.Password, c.TLS.CA = "relay", "wrong", p.ca })
	if err := bad.Write(t.Context(), makeBatch(0, 1)); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong proxy password: got %v, want ErrUnauthorized", err)
	}

	s := newTestSink(t, url, func(c *Config) {
		c.User, c.Password, c.Token, c.TLS.CA = "relay", "proxy-pass", "relay-token", p.ca
	})
	written := make(chan struct{})
	go func() {
		defer close(written)
		for i := range batches {
			deliver(t, s, makeBatch(i*size, size))
		}
	}()
	for n := range rec.emitted {
		if n == holdAt {
			break
		}
	}
	ngx.stop(t) // the connection ends while batch holdAt waits for its receipt
	ngx.start(t)
	rec.release(ack.Delivered)
	<-written

	counts := countIDs(rec.messages())
	for id := range batches * size {
		if counts[id] != 1 {
			t.Fatalf("event %d arrived %d times", id, counts[id])
		}
	}
	if len(counts) != batches*size {
		t.Fatalf("got %d distinct events, want %d", len(counts), batches*size)
	}
	s.mu.Lock()
	limit := s.limit
	s.mu.Unlock()
	if limit != 2<<20 {
		t.Errorf("max message size through nginx = %d, want the receiver's 2MiB", limit)
	}
	if got := testutil.CounterValue(t, s.connects); got < 2 {
		t.Errorf("connects = %v, want a reconnect", got)
	}
	if got := testutil.CounterValue(t, s.resent); got < 1 {
		t.Errorf("resent = %v, want the batch in flight resent", got)
	}
	access, _ := os.ReadFile(ngx.dir + "/access.log")
	if !strings.Contains(string(access), `"GET /relay HTTP/1.1" 101`) || !strings.Contains(string(access), " 401 ") {
		t.Errorf("nginx access log lacks the upgrade or the refused login:\n%s", access)
	}
}
