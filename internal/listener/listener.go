// Package listener opens the TCP listeners of network sources, wrapped in
// TLS when configured, and publishes the address actually bound, so tests
// and logs can use port 0; and those of sluice's own HTTP servers (server.go).
package listener

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

// Listen listens on address (host:port), with TLS when tc is not nil.
// Its error names the address and the cause alone
// ("listening on 127.0.0.1:5514/tcp: address already in use").
func Listen(address string, tc *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("listening on %s/tcp: %w", address, Cause(err))
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return ln, nil
}

// ListenUDP listens for datagrams on address (host:port), with an error
// like Listen's.
func ListenUDP(address string) (net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", address)
	if err != nil {
		return nil, fmt.Errorf("listening on %s/udp: %w", address, Cause(err))
	}
	return pc, nil
}

// Cause strips what net adds around a socket error ("listen tcp
// 127.0.0.1:5514: bind: "), leaving the cause ("address already in use"),
// for messages that name the address themselves. errors.Is still sees
// the same errno.
func Cause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sc *os.SyscallError
	if errors.As(err, &sc) && sc.Err != nil {
		err = sc.Err
	}
	return err
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

// runKey is the context key of a source's Run context in its requests'.
type runKey struct{}

// BaseContext returns an http.Server.BaseContext for a source's server.
// Requests' contexts are not cancelled when Run's ctx is, so a request
// whose events are already in the pipeline can still wait for their
// acknowledgement at shutdown; they carry Run's ctx (see RunContext) so a
// handler can stop taking new events then.
func BaseContext(run context.Context) func(net.Listener) context.Context {
	return func(net.Listener) context.Context {
		return context.WithValue(context.WithoutCancel(run), runKey{}, run)
	}
}

// RunContext returns the Run context that BaseContext put into a request's
// context, or context.Background when there is none.
func RunContext(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(runKey{}).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// Held keeps the socket a source's Start opened until its Run takes it.
// The zero value is empty and ready to use.
type Held[T io.Closer] struct {
	mu  sync.Mutex
	v   T
	set bool
}

// Open opens with open unless a socket is already held: the Start of a
// component.Starter.
func (h *Held[T]) Open(open func() (T, error)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.set {
		return nil
	}
	v, err := open()
	if err != nil {
		return err
	}
	h.v, h.set = v, true
	return nil
}

// Take hands the held socket to Run, opening one first when none is held
// (Start was not called, or an earlier Run took its socket).
func (h *Held[T]) Take(open func() (T, error)) (T, error) {
	if err := h.Open(open); err != nil {
		var zero T
		return zero, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	v := h.v
	var zero T
	h.v, h.set = zero, false
	return v, nil
}
