package wssink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/relay"
)

// ErrUnauthorized means the receiver, or a proxy in front of it, refused
// the sink's credentials (HTTP 401 or 403).
var ErrUnauthorized = errors.New("credentials refused")

// errTooBig means the receiver closed the connection over a message larger
// than it accepts, though it announced a larger limit (or none).
var errTooBig = errors.New("receiver refused a message as too big")

// link is one WebSocket connection to the receiver. A reader goroutine
// collects receipts until the connection ends, and a keepalive goroutine
// pings it and closes it when a pong is late. Once dead is closed the link
// is useless; the sink drops it and dials a new one on the next Write.
type link struct {
	c     *websocket.Conn
	limit int // the receiver's largest accepted message

	mu     sync.Mutex
	got    map[uint64]relay.Receipt
	notify chan struct{} // signalled when a receipt arrives
	dead   chan struct{} // closed when the reader stops
	err    error         // why the reader stopped; read after dead
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// dial connects and starts the link's goroutines.
func (s *Sink) dial(ctx context.Context) (*link, error) {
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, resp, err := websocket.Dial(dctx, s.url, &websocket.DialOptions{
		HTTPClient:   s.client,
		HTTPHeader:   s.header,
		Subprotocols: []string{relay.Subprotocol},
	})
	if err != nil {
		return nil, dialError(s.redacted, resp, err)
	}
	if c.Subprotocol() != relay.Subprotocol {
		_ = c.Close(websocket.StatusProtocolError, "sluice relay protocol required")
		return nil, fmt.Errorf("connecting to %s: %w: the server does not speak %s (is the path a sluice websocket source?)",
			s.redacted, component.ErrNotConnected, relay.Subprotocol)
	}
	c.SetReadLimit(relay.HeaderSize + relay.MaxReason)
	l := &link{c: c, limit: maxMessage(resp.Header.Get(relay.HeaderMaxMessageSize)), got: map[uint64]relay.Receipt{},
		notify: make(chan struct{}, 1), dead: make(chan struct{})}
	kctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.wg.Add(2)
	go l.read()
	go l.keepalive(kctx, s.pingInterval, s.pingTimeout, s.log)
	return l, nil
}

// maxMessage parses the receiver's announced limit, falling back to the
// protocol's default when it is missing (a proxy may drop it) or absurd.
func maxMessage(h string) int {
	n, err := strconv.Atoi(h)
	if err != nil || n < relay.MinMaxMessageSize {
		return relay.DefaultMaxMessageSize
	}
	return n
}

func dialError(url string, resp *http.Response, err error) error {
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("connecting to %s: %w: %w: the server answered %s; check token, user and password",
				url, component.ErrNotConnected, ErrUnauthorized, resp.Status)
		case http.StatusSwitchingProtocols:
		default:
			return fmt.Errorf("connecting to %s: %w: the server answered %s instead of upgrading to a websocket",
				url, component.ErrNotConnected, resp.Status)
		}
	}
	return fmt.Errorf("connecting to %s: %w: %w", url, component.ErrNotConnected, err)
}

// read collects receipts until the connection fails or closes.
func (l *link) read() {
	defer l.wg.Done()
	defer close(l.dead)
	for {
		typ, msg, err := l.c.Read(context.Background())
		if err == nil && typ != websocket.MessageBinary {
			err = errors.New("text message from receiver")
		}
		var r relay.Receipt
		if err == nil {
			r, err = relay.ParseReceipt(msg)
		}
		if err != nil {
			l.err = err
			if !errors.As(err, new(websocket.CloseError)) {
				_ = l.c.Close(websocket.StatusProtocolError, "bad receipt")
			}
			return
		}
		l.mu.Lock()
		l.got[r.Seq] = r
		l.mu.Unlock()
		select {
		case l.notify <- struct{}{}:
		default:
		}
	}
}

func (l *link) keepalive(ctx context.Context, interval, timeout time.Duration, log *slog.Logger) {
	defer l.wg.Done()
	if err := relay.Keepalive(ctx, l.c, interval, timeout); err != nil {
		log.Warn("receiver stopped answering pings; reconnecting", "error", err)
		_ = l.c.CloseNow()
	}
}

// receipt takes the receipt for seq, if it has arrived.
func (l *link) receipt(seq uint64) (relay.Receipt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.got[seq]
	if ok {
		delete(l.got, seq)
	}
	return r, ok
}

// forget discards receipts for sequence numbers below seq: late answers to
// batches the pipeline has given up on.
func (l *link) forget(seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.got {
		if s < seq {
			delete(l.got, s)
		}
	}
}

// isDead reports whether the connection has ended.
func (l *link) isDead() bool {
	select {
	case <-l.dead:
		return true
	default:
		return false
	}
}

// close ends the connection, politely when graceful, and waits for the
// goroutines.
func (l *link) close(graceful bool) {
	l.stop()
	if graceful && !l.isDead() {
		_ = l.c.Close(websocket.StatusNormalClosure, "")
	}
	_ = l.c.CloseNow()
	l.wg.Wait()
}

// closeErr describes why a dead link ended.
func (l *link) closeErr() error {
	var ce websocket.CloseError
	if errors.As(l.err, &ce) && ce.Code == websocket.StatusMessageTooBig {
		return fmt.Errorf("%w: %w", errTooBig, l.err)
	}
	return l.err
}
