// Package tlsconf turns sluice's TLS settings into crypto/tls configs, the
// same way for every listener and client, with safe defaults (TLS 1.2+).
// Server certificates are reloaded from disk when their files change, so a
// renewed certificate is picked up without a restart.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Server builds a server config from PEM files. With clientCA set, clients
// must present a certificate signed by it (mutual TLS).
//
// Session tickets are disabled. A TLS 1.3 server sends its tickets right
// after the handshake, and a sender that connects, writes and closes at
// once (a script over openssl or Python's ssl, which read one record at a
// time) closes its socket with the ticket still unread. Closing with
// unread data makes the sender's kernel send a reset instead of a FIN and
// drop what it had not sent yet: the lines, held back by Nagle's algorithm
// until the handshake's last flight is acknowledged. Every line of such a
// connection was lost, with nothing to see on sluice's side but the reset.
// Without tickets the server sends nothing after its Finished, the close
// is a FIN and every line arrives. Log senders gain little from resumption
// (one long connection, or a few short ones).
func Server(certFile, keyFile, clientCA string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls needs both cert and key")
	}
	kp := &keyPair{cert: certFile, key: keyFile}
	if err := kp.load(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.get, SessionTicketsDisabled: true}
	if clientCA != "" {
		pool, err := loadPool(clientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Client builds a client config. ca replaces the system roots when set;
// certFile/keyFile present a client certificate; insecure skips
// verification and must be asked for explicitly.
func Client(ca, certFile, keyFile, serverName string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: insecure} //nolint:gosec // opt-in only
	if ca != "" {
		pool, err := loadPool(ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("reading CA %s: no PEM certificates found", file)
	}
	return pool, nil
}

// keyPair reloads the certificate when the files' modification time
// changes, checking at most once a minute.
type keyPair struct {
	cert, key string
	mu        sync.Mutex
	current   *tls.Certificate
	mtime     time.Time
	checked   time.Time
}

func (k *keyPair) load() error {
	st, err := os.Stat(k.cert)
	if err != nil {
		return fmt.Errorf("loading certificate: %w", err)
	}
	c, err := tls.LoadX509KeyPair(k.cert, k.key)
	if err != nil {
		return fmt.Errorf("loading certificate: %w", err)
	}
	k.current, k.mtime = &c, st.ModTime()
	return nil
}

func (k *keyPair) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now := time.Now(); now.Sub(k.checked) > time.Minute {
		k.checked = now
		if st, err := os.Stat(k.cert); err == nil && !st.ModTime().Equal(k.mtime) {
			_ = k.load() // keep serving the old certificate if the new one is broken
		}
	}
	return k.current, nil
}
