// Package rtail receives rtail's UDP packets, so the rtail npm client (and
// anything else that speaks its protocol) can send to sluice unchanged.
//
// A packet is one JSON object {"id", "timestamp", "content"}: id names the
// stream, timestamp is milliseconds since the epoch, and content is the
// line, either a string or any JSON value the client parsed from it. UDP is
// best effort: packets lost by the network or the kernel are not seen, and
// packets that are not valid rtail JSON are counted and kept raw.
package rtail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/listener"
)

// Config configures the rtail source.
type Config struct {
	// Address is the UDP host:port to listen on. Default 127.0.0.1:9999,
	// rtail's default port.
	Address string `yaml:"address"`
	// ReceiveBuffer sets the socket's receive buffer (SO_RCVBUF), which
	// absorbs bursts. Default 4MiB (the kernel may cap it at net.core.rmem_max).
	ReceiveBuffer config.ByteSize `yaml:"receive_buffer"`
	// MaxBatch is the most events emitted at once. Default 512.
	MaxBatch int `yaml:"max_batch"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Address = "127.0.0.1:9999"
	c.ReceiveBuffer = 4 << 20
	c.MaxBatch = 512
}

// Validate implements component.Validator.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if c.MaxBatch < 1 {
		return errors.New("max_batch must be at least 1")
	}
	return nil
}

// Source listens for rtail packets.
//
// Start binds the UDP socket and reports it listening, so a port in use
// fails start-up; Run reads it and closes it when it returns, also when its
// context is already done. Run without Start starts first.
type Source struct {
	cfg     *Config
	deps    component.Deps
	host    string
	invalid interface{ Inc() }
	bound   *listener.Bound
	held    listener.Held[net.PacketConn]
}

// New returns an rtail source.
func New(c *Config, d component.Deps) (component.Source, error) {
	host, _ := os.Hostname()
	return &Source{cfg: c, deps: d, host: host, bound: listener.NewBound(),
		invalid: d.Metrics.Counter("rtail_invalid_packets_total", "rtail packets that were not valid rtail JSON (kept raw).", nil)}, nil
}

// Addr waits until Run listens, or ctx is done, and returns the bound
// address.
func (s *Source) Addr(ctx context.Context) (net.Addr, error) { return s.bound.Addr(ctx) }

// Start implements component.Starter: it binds the socket Run reads.
func (s *Source) Start(context.Context) error { return s.held.Open(s.listen) }

func (s *Source) listen() (net.PacketConn, error) {
	pc, err := listener.ListenUDP(s.cfg.Address)
	if err != nil {
		return nil, err
	}
	if u, ok := pc.(*net.UDPConn); ok && s.cfg.ReceiveBuffer > 0 {
		if err := u.SetReadBuffer(int(s.cfg.ReceiveBuffer)); err != nil {
			s.deps.Logger.Warn("setting rtail receive buffer", "receive_buffer", s.cfg.ReceiveBuffer, "error", err)
		}
	}
	s.bound.Set(pc.LocalAddr())
	s.deps.Metrics.Listening(pc.LocalAddr())
	s.deps.Logger.Info("listening for rtail packets", "address", pc.LocalAddr().String())
	return pc, nil
}

// Run implements component.Source: it reads the socket Start bound until
// ctx is done.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	pc, err := s.held.Take(s.listen)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()

	packets := make(chan event.Event, s.cfg.MaxBatch)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(packets)
		s.receive(pc, packets)
	}()
	err = s.batch(ctx, packets, emit)
	pc.Close()
	for range packets { // let the receiver finish
	}
	wg.Wait()
	return err
}

// receive reads datagrams until the socket is closed.
func (s *Source) receive(pc net.PacketConn, out chan<- event.Event) {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.deps.Metrics.Errors.Inc()
				s.deps.Logger.Warn("reading rtail packet", "error", err)
				continue
			}
			return
		}
		out <- s.decode(buf[:n], addr)
	}
}

// batch emits what has arrived: the first packet, plus every packet
// already waiting, up to MaxBatch.
func (s *Source) batch(ctx context.Context, in <-chan event.Event, emit component.Emit) error {
	for {
		var first event.Event
		var ok bool
		select {
		case first, ok = <-in:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
		// UDP has no acknowledgements: nothing waits for the token.
		b := &event.Batch{Events: []event.Event{first}, Ack: ack.New(nil)}
	more:
		for len(b.Events) < s.cfg.MaxBatch {
			select {
			case e, ok := <-in:
				if !ok {
					break more
				}
				b.Events = append(b.Events, e)
			default:
				break more
			}
		}
		if err := emit(ctx, b); err != nil {
			return nil // shutting down; UDP is best effort
		}
	}
}

// packet is rtail's wire format.
type packet struct {
	ID        *string         `json:"id"`
	Timestamp *float64        `json:"timestamp"`
	Content   json.RawMessage `json:"content"`
}

// decode turns one datagram into an event. Anything that is not an rtail
// packet is kept whole as the message, with the sender as stream.
func (s *Source) decode(data []byte, from net.Addr) event.Event {
	e := event.Event{Timestamp: time.Now().UTC(), Host: s.host}
	var p packet
	if err := json.Unmarshal(data, &p); err != nil || p.ID == nil || len(p.Content) == 0 {
		s.invalid.Inc()
		e.Stream = hostOf(from)
		e.Message = bytes.Clone(data)
		return e
	}
	e.Stream = *p.ID
	e.Host = hostOf(from)
	if p.Timestamp != nil && *p.Timestamp > 0 {
		e.Timestamp = time.UnixMilli(int64(*p.Timestamp)).UTC()
	}
	var str string
	if json.Unmarshal(p.Content, &str) == nil {
		e.Message = []byte(str)
		return e
	}
	// Structured content: the message is its compact JSON, and an object's
	// keys also become fields.
	var compact bytes.Buffer
	if json.Compact(&compact, p.Content) == nil {
		e.Message = compact.Bytes()
	} else {
		e.Message = bytes.Clone(p.Content)
	}
	var obj map[string]any
	if json.Unmarshal(p.Content, &obj) == nil {
		e.Fields = event.FromAny(obj).Fields()
	}
	return e
}

func hostOf(a net.Addr) string {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.IP.String()
	}
	if a == nil {
		return ""
	}
	return a.String()
}

func init() {
	component.MustRegister(component.SourceSpec("rtail", "rtail UDP JSON packets (the rtail npm client works unchanged)", New).Listener())
}

var _ component.Source = (*Source)(nil)
