package syslog

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	wire "github.com/sluice-log/sluice/internal/syslog"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// streamPeer is a restartable syslog receiver over TCP or TLS. What the
// receivers before a restart got is kept.
type streamPeer struct {
	t    *testing.T
	tc   *tls.Config
	addr string
	mu   sync.Mutex
	past []string // frames of stopped receivers
	cur  *receiver
}

func newStreamPeer(t *testing.T, tc *tls.Config) *streamPeer {
	p := &streamPeer{t: t, tc: tc, cur: listenStream(t, "127.0.0.1:0", tc)}
	p.addr = p.cur.addr()
	return p
}

func (p *streamPeer) received() []string {
	p.mu.Lock()
	frames := append([]string(nil), p.past...)
	cur := p.cur
	p.mu.Unlock()
	if cur != nil {
		cur.mu.Lock()
		frames = append(frames, cur.frames...)
		cur.mu.Unlock()
	}
	return messages(decoded(frames))
}

// down stops the receiver, keeping its frames; up listens again.
func (p *streamPeer) down() {
	p.mu.Lock()
	cur := p.cur
	p.cur = nil
	p.mu.Unlock()
	cur.stop()
	cur.mu.Lock()
	frames := cur.frames
	cur.mu.Unlock()
	p.mu.Lock()
	p.past = append(p.past, frames...)
	p.mu.Unlock()
}

func (p *streamPeer) up() {
	r := listenStream(p.t, p.addr, p.tc)
	p.mu.Lock()
	p.cur = r
	p.mu.Unlock()
}

// restart stops the receiver and starts it again once the sink noticed
// the closed connection. Syslog has no acknowledgements: what a sink
// writes before it notices is lost, by design (see the package doc), so
// the suite checks the reconnection, not that race.
func (p *streamPeer) restart(s *Sink) func() {
	return func() { p.down(); waitDead(p.t, s); p.up() }
}

// breakUntilHealed stops the receiver until heal; see restart.
func (p *streamPeer) breakUntilHealed(s *Sink) func() func() {
	return func() func() { p.down(); waitDead(p.t, s); return p.up }
}

func (p *streamPeer) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur.hang()
}

// TestConformance runs the suite over every transport. TCP and TLS have
// no acknowledgements, so delivery is eventual (handed to the kernel);
// UDP can report neither failure nor backpressure, so only delivery and
// lifecycle are checked; logplex over HTTP is acknowledged per request.
func TestConformance(t *testing.T) {
	p := newPKI(t)
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"tcp", false}, {"tls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{Eventual: true, New: func(t *testing.T) *sinktest.Instance {
				var stc *tls.Config
				if tc.tls {
					stc = p.serverTLS(false)
				}
				peer := newStreamPeer(t, stc)
				s := newTestSink(t, func(c *Config) {
					c.Address, c.Timeout = peer.addr, config.Duration(5*time.Second)
					if tc.tls {
						c.Mode, c.TLS.CA = ModeTLS, p.caFile
					}
				})
				return &sinktest.Instance{Sink: s, Received: peer.received,
					Break: peer.breakUntilHealed(s), Restart: peer.restart(s), Hang: peer.hang}
			}})
		})
	}
	t.Run("udp", func(t *testing.T) {
		sinktest.Run(t, sinktest.Harness{Eventual: true, New: func(t *testing.T) *sinktest.Instance {
			peer := newDatagramPeer(t)
			s := newTestSink(t, func(c *Config) { c.Mode, c.Address = ModeUDP, peer.addr })
			return &sinktest.Instance{Sink: s, Received: peer.received}
		}})
	})
	t.Run("logplex", func(t *testing.T) {
		sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
			rec := &logplexPeer{}
			peer := sinktest.NewHTTPPeer(t, rec)
			s := newTestSink(t, func(c *Config) { c.URL = URL("syslog+" + peer.URL + "/drain") })
			return &sinktest.Instance{Sink: s, Received: rec.received,
				Break: peer.Break, Restart: peer.Restart, Hang: peer.Hang}
		}})
	})
}

// logplexPeer records the messages of logplex requests.
type logplexPeer struct {
	mu     sync.Mutex
	frames []string
}

func (p *logplexPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rd := wire.NewReader(r.Body, 1<<20)
	var frames []string
	for {
		f, err := rd.Next()
		if len(f) > 0 {
			frames = append(frames, string(f))
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			break
		}
	}
	p.mu.Lock()
	p.frames = append(p.frames, frames...)
	p.mu.Unlock()
}

func (p *logplexPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return messages(decoded(p.frames))
}

// datagramPeer reads UDP datagrams until the test ends.
type datagramPeer struct {
	addr   string
	mu     sync.Mutex
	frames []string
}

func newDatagramPeer(t *testing.T) *datagramPeer {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &datagramPeer{addr: pc.LocalAddr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1<<17)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			p.mu.Lock()
			p.frames = append(p.frames, string(buf[:n]))
			p.mu.Unlock()
		}
	})
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return p
}

func (p *datagramPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return messages(decoded(p.frames))
}
