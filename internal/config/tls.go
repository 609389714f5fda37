package config

import (
	"crypto/tls"
	"errors"

	"github.com/sluice-log/sluice/internal/tlsconf"
)

// ClientTLS is the client side of TLS, for sinks that connect out. Every
// setting is optional: the zero value verifies the server against the
// system roots and presents no certificate.
type ClientTLS struct {
	// CA is a PEM file of certificate authorities that replace the system
	// roots for verifying the server.
	CA string `yaml:"ca"`
	// Cert is a PEM client certificate for mutual TLS; needs key.
	Cert string `yaml:"cert"`
	// Key is the PEM private key of cert.
	Key string `yaml:"key"`
	// InsecureSkipVerify disables server certificate verification. Only
	// for testing; default false.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// ServerName is the name the server's certificate must hold. Default:
	// the host of the URL.
	ServerName string `yaml:"server_name"`
}

// Validate checks that cert and key are set together.
func (t ClientTLS) Validate() error {
	if (t.Cert == "") != (t.Key == "") {
		return errors.New("tls: cert and key must be set together")
	}
	return nil
}

// Config builds the crypto/tls client config (see tlsconf.Client),
// reading the CA and certificate files.
func (t ClientTLS) Config() (*tls.Config, error) {
	return tlsconf.Client(t.CA, t.Cert, t.Key, t.ServerName, t.InsecureSkipVerify)
}
