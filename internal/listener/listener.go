// Package listener opens the TCP listeners of network sources, wrapped in
// TLS when configured, and publishes the address actually bound, so tests
// and logs can use port 0.
package listener

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
)

// Listen listens on address (host:port), with TLS when tc is not nil.
func Listen(address string, tc *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", address, err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// Bound holds the address a source listens on, once it does. The zero
// value is not usable; make one with NewBound.
type Bound struct{ ch chan net.Addr }

// NewBound returns an empty Bound.
func NewBound() *Bound { return &Bound{ch: make(chan net.Addr, 1)} }

// Set records the bound address, replacing an earlier one (a restarted Run).
func (b *Bound) Set(a net.Addr) {
	select {
	case <-b.ch:
	default:
	}
	b.ch <- a
}

// Addr waits until an address is set, or ctx is done.
func (b *Bound) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case a := <-b.ch:
		b.ch <- a
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
