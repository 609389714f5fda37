package wssource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/relay"
)

// readAhead is how many bytes of decoded batches, in multiples of the
// largest message, a connection may hold while they wait to be emitted.
const readAhead = 2

// session serves one sender's connection. A reader decodes each batch and
// queues it for an emitter, so that the connection keeps being read (and
// pings answered) while the pipeline applies backpressure; the sender's
// wait for receipts bounds what is queued, and readAhead caps it for any
// sender. Each batch's ack callback queues a receipt, which a writer
// goroutine sends. When the source stops, new batches are answered
// "abandoned" and the session waits (bounded) until the receipts of those
// already emitted are sent, then closes with "going away".
type session struct {
	src    *Source
	c      *websocket.Conn
	sender string // "" when the sender gave no id: no duplicate detection
	remote string
	buf    []byte // scratch for reading messages
	work   chan item
	budget budget

	mu       sync.Mutex
	queue    []relay.Receipt
	writing  bool
	closed   bool
	inflight int           // batches whose receipt is due here
	wake     chan struct{} // to the writer: receipts queued
	changed  chan struct{} // to shutdown: inflight or queue went down
}

// item is a decoded batch waiting to be emitted.
type item struct {
	seq  uint64
	evs  []event.Event
	size int
}

func newSession(src *Source, c *websocket.Conn, sender, remote string) *session {
	return &session{src: src, c: c, sender: sender, remote: remote,
		work:   make(chan item, 1024),
		budget: budget{max: readAhead * src.maxMessage, freed: make(chan struct{}, 1)},
		wake:   make(chan struct{}, 1), changed: make(chan struct{}, 1)}
}

// serve runs the session until the connection ends and what it read is
// emitted (or abandoned, when the source stops).
func (ss *session) serve(srcCtx context.Context, emit component.Emit) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { ss.writeReceipts(ctx) })
	wg.Go(func() {
		if err := relay.Keepalive(ctx, ss.c, ss.src.pingInterval, ss.src.pingTimeout); err != nil {
			ss.src.log.Warn("sender stopped answering pings; closing", "remote", ss.remote, "error", err)
			_ = ss.c.CloseNow()
		}
	})
	wg.Go(func() {
		select {
		case <-srcCtx.Done():
			ss.shutdown(ctx)
		case <-ctx.Done():
		}
	})
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for it := range ss.work {
			ss.emit(srcCtx, emit, it)
			ss.budget.release(it.size)
		}
	}()
	err := ss.read(ctx, srcCtx)
	close(ss.work)
	<-emitted
	ss.mu.Lock()
	ss.closed = true
	ss.mu.Unlock()
	cancel()
	_ = ss.c.CloseNow()
	wg.Wait()
	if errors.Is(err, syscall.ECONNRESET) {
		// Batches without a receipt are sent again by the sender; count
		// the reset, since whatever it wrote last never arrived.
		ss.src.resets.Inc()
		ss.src.log.Warn("sender's connection reset; it resends what has no receipt", "remote", ss.remote, "sender", ss.sender, "error", err)
		return
	}
	ss.src.log.Info("sender disconnected", "remote", ss.remote, "sender", ss.sender, "reason", err)
}

// read handles messages until the connection ends.
func (ss *session) read(ctx, srcCtx context.Context) error {
	for {
		typ, r, err := ss.c.Reader(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageBinary {
			ss.src.badMessages.Inc()
			_ = ss.c.Close(websocket.StatusUnsupportedData, "sluice relay messages are binary")
			return errors.New("text message from sender")
		}
		if ss.buf, err = readAll(ss.buf[:0], r); err != nil {
			return err
		}
		it, err := ss.accept(srcCtx, ss.buf)
		if err != nil {
			ss.src.badMessages.Inc()
			_ = ss.c.Close(websocket.StatusProtocolError, err.Error())
			return err
		}
		if it.evs == nil {
			continue
		}
		if err := ss.budget.acquire(ctx, it.size); err != nil {
			ss.finish(relay.Receipt{Seq: it.seq, Status: relay.Abandoned})
			return err
		}
		ss.work <- it
	}
}

// readAll appends everything from r to buf, growing it as needed.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// accept processes one batch message and returns the batch to emit, if
// any. Only a message that is not a batch at all is a protocol error; a
// batch that cannot be decoded is rejected with a receipt, since sending
// it again would not help.
func (ss *session) accept(srcCtx context.Context, msg []byte) (item, error) {
	if len(msg) < relay.HeaderSize || msg[0] != relay.TypeBatch {
		return item{}, fmt.Errorf("expected a batch message, got %d bytes starting %#x", len(msg), msg[:min(len(msg), 1)])
	}
	flags, seq, payload, err := relay.ParseBatch(msg)
	if srcCtx.Err() != nil { // stopping: take nothing new
		ss.deliver(relay.Receipt{Seq: seq, Status: relay.Abandoned}, false)
		return item{}, nil
	}
	v, rc := fresh, relay.Receipt{}
	if ss.sender != "" {
		v, rc = ss.src.senders.begin(ss, ss.sender, seq)
	} else {
		ss.adopt(1)
	}
	switch v {
	case inProgress:
		ss.src.duplicates.Inc()
		return item{}, nil
	case finished:
		ss.src.duplicates.Inc()
		ss.deliver(rc, false)
		return item{}, nil
	}
	var evs []event.Event
	if err == nil {
		evs, err = ss.src.decode(flags, payload)
	}
	if err != nil {
		ss.src.badMessages.Inc()
		ss.src.log.Warn("rejecting undecodable batch", "remote", ss.remote, "sender", ss.sender, "seq", seq, "error", err)
		ss.finish(relay.Receipt{Seq: seq, Status: relay.Rejected, Reason: err.Error()})
		return item{}, nil
	}
	if evs == nil {
		evs = []event.Event{}
	}
	return item{seq: seq, evs: evs, size: len(payload)}, nil
}

// emit passes the events on; the receipt follows their acknowledgement.
func (ss *session) emit(ctx context.Context, emit component.Emit, it item) {
	if ctx.Err() != nil {
		ss.finish(relay.Receipt{Seq: it.seq, Status: relay.Abandoned})
		return
	}
	b := &event.Batch{Events: it.evs}
	b.Ack = ack.New(func(st ack.Status) { ss.finish(relay.Receipt{Seq: it.seq, Status: relay.StatusOf(st)}) })
	_ = emit(ctx, b) // on error the pipeline releases the token as abandoned
}

// finish routes the receipt of a batch this session took to the session
// that now owns it.
func (ss *session) finish(r relay.Receipt) {
	to := ss
	if ss.sender != "" {
		to = ss.src.senders.finish(ss, ss.sender, r)
	}
	to.deliver(r, true)
}

// budget bounds the bytes a session holds between reading and emitting.
// One batch is always let through, however large.
type budget struct {
	mu    sync.Mutex
	used  int
	max   int
	freed chan struct{}
}

func (b *budget) acquire(ctx context.Context, n int) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *budget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	signal(b.freed)
}

// decode turns a batch payload into events that own their memory.
func (s *Source) decode(flags byte, payload []byte) ([]event.Event, error) {
	var err error
	if flags&relay.FlagCompressed != 0 {
		payload, err = relay.Decompress(payload, s.maxMessage)
	} else {
		payload = bytes.Clone(payload) // the read buffer is reused
	}
	if err != nil {
		return nil, err
	}
	return relay.Decode(payload)
}
