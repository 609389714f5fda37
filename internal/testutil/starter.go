package testutil

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// CheckListenerStart checks the Start of a source listening on a network
// ("tcp" or "udp") address, which build puts in the source's config: with
// the address taken, Start fails with an error naming it and the cause;
// with it free, Start binds it, Run with a context already done returns
// nil and releases it, and it can be bound again.
func CheckListenerStart(t *testing.T, network string, build func(t testing.TB, address string) component.Source) {
	t.Helper()
	taken, release := occupy(t, network, "127.0.0.1:0")
	addr := taken.String()
	src := build(t, addr)
	st, ok := src.(component.Starter)
	if !ok {
		t.Fatalf("%T is not a component.Starter", src)
	}
	err := st.Start(t.Context())
	if want := "listening on " + addr + "/" + network + ": address already in use"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Start with %s taken = %v, want an error containing %q", addr, err, want)
	}
	release()

	src = build(t, addr)
	if err := src.(component.Starter).Start(t.Context()); err != nil {
		t.Fatalf("Start with %s free: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(ctx context.Context, b *event.Batch) error { return ctx.Err() })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after Start with a cancelled context: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run after Start with a cancelled context did not return")
	}
	_, release = occupy(t, network, addr)
	release()
}

// occupy binds address and returns the address bound and its release.
func occupy(t testing.TB, network, address string) (net.Addr, func()) {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket(network, address)
		if err != nil {
			t.Fatalf("binding %s/%s: %v", address, network, err)
		}
		return pc.LocalAddr(), func() { _ = pc.Close() }
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatalf("binding %s/%s: %v", address, network, err)
	}
	return ln.Addr(), func() { _ = ln.Close() }
}
