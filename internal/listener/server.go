package listener

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// ListenServer listens for one of sluice's own HTTP servers (the api,
// metrics.listen) on addr: host:port, or unix:///path for a unix socket
// (a stale one from a previous run replaced, the new one readable and
// writable by sluice's user and group). With t enabled it serves TLS,
// offering protos by ALPN when given. what names the server in errors.
func ListenServer(what, addr string, t config.ServerTLS, protos ...string) (net.Listener, error) {
	ln, err := listenAddr(what, addr)
	if err != nil {
		return nil, err
	}
	if !t.Enabled() {
		return ln, nil
	}
	tc, err := tlsconf.Server(t.Cert, t.Key, t.ClientCA)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("%s tls: %w", what, err)
	}
	if len(protos) > 0 {
		tc.NextProtos = protos
	}
	return tls.NewListener(ln, tc), nil
}

func listenAddr(what, addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		_ = os.Remove(path)
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("%s listening on %s: %w", what, addr, err)
		}
		if err := os.Chmod(path, 0o660); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("%s socket %s: %w", what, path, err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listening on %s: %w", what, addr, err)
	}
	return ln, nil
}

// ServeHTTP serves h on ln in the background, with the timeouts of
// sluice's own servers and net/http's errors logged as warnings to log;
// what names the server when it stops on an error.
func ServeHTTP(what string, ln net.Listener, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" server stopped", "error", err)
		}
	}()
	return srv
}
