package relay

import (
	"context"
	"fmt"
	"time"
)

// Pinger sends a ping and waits for its pong (a WebSocket connection).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Keepalive pings p every interval until ctx is done. When a pong does not
// come back within timeout it returns the error, and the caller closes the
// connection: a peer that has gone away without closing, or a proxy that
// dropped the connection, is noticed within interval+timeout, and the
// traffic keeps idle connections through proxies open. It returns nil
// when ctx is done.
func Keepalive(ctx context.Context, p Pinger, interval, timeout time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := p.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("keepalive: no pong within %s: %w", timeout, err)
		}
	}
}
