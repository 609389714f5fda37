// Package natstest runs a real nats-server with JetStream on loopback for
// tests: found on PATH (scripts/install-test-deps.sh puts it in
// /opt/sluice-peers/bin), on a free port, its store in a temp dir. Without
// it the test is skipped, or fails under CI=true.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluice-log/sluice/internal/testutil"
)

// Server is a nats-server process that can be stopped, started again on
// the same port with the same store, and paused.
type Server struct {
	URL  string
	Port int

	t    testing.TB
	bin  string
	dir  string
	args []string      // extra nats-server arguments
	opts []nats.Option // what the test's own clients need (auth)
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary returns the nats-server program, skipping t (failing it under
// CI=true) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	root := os.Getenv("SLUICE_PEERS_ROOT")
	if root == "" {
		root = "/opt/sluice-peers"
	}
	if p := filepath.Join(root, "bin", "nats-server"); isExec(p) {
		return p
	}
	p, err := exec.LookPath("nats-server")
	if err != nil {
		testutil.RequireCI(t, "nats-server is not installed (scripts/install-test-deps.sh)")
	}
	return p
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode()&0o111 != 0
}

// Start starts a nats-server with JetStream on a free loopback port and
// stops it when the test ends.
func Start(t testing.TB) *Server { return StartWith(t, nil) }

// StartWith is Start with extra nats-server arguments (e.g. "--auth",
// token) and the client options the test's own connections then need.
func StartWith(t testing.TB, opts []nats.Option, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir(), args: args, opts: opts}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s.URL = fmt.Sprintf("nats://127.0.0.1:%d", s.Port)
	s.Launch()
	t.Cleanup(s.Stop)
	return s
}

// Launch starts the process (again) and waits until JetStream answers.
func (s *Server) Launch() {
	s.t.Helper()
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return
	}
	log, err := os.OpenFile(filepath.Join(s.dir, "nats.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.bin, append([]string{"-a", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-js",
		"-sd", filepath.Join(s.dir, "js"), "-n", "sluice-test"}, s.args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		_ = log.Close()
		s.t.Fatalf("starting nats-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(done) }()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	testutil.WaitFor(s.t, 20*time.Second, "nats-server with JetStream to answer", s.ready)
}

func (s *Server) ready() bool {
	nc, err := nats.Connect(s.URL, append([]nats.Option{nats.Timeout(time.Second)}, s.opts...)...)
	if err != nil {
		return false
	}
	defer nc.Close()
	_, err = nc.Request("$JS.API.INFO", nil, time.Second)
	return err == nil
}

// Stop stops the process (SIGTERM, then SIGKILL) and waits for it; the
// store stays for Launch.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart stops and launches the server on the same port and store.
func (s *Server) Restart() {
	s.Stop()
	s.Launch()
}

// Pause stops the process with SIGSTOP: connections stay open, nothing is
// answered. Stop (at the end of the test) continues and ends it.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGSTOP)
	}
}

// Conn connects a client for the test's own use, closed when it ends.
func (s *Server) Conn(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.URL, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond)}, s.opts...)...)
	if err != nil {
		t.Fatalf("connecting to %s: %v", s.URL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
