package httpout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// Payload builds request bodies in buffers reused from one request to the
// next. The transport may still read a body after Send returned (an early
// answer, a retried connection), so the buffers are reused only once every
// body handed to it has been closed; until then Begin starts fresh ones and
// leaves the old ones to the transport. A Payload is used by one goroutine
// at a time.
type Payload struct {
	raw, zipped []byte
	gzip        bool
	zw          *gzip.Writer
	body        []byte        // what the next attach sends
	inFlight    *atomic.Int32 // bodies of the buffers' last request not yet closed
}

// NewPayload returns a Payload that gzips the body when level is not
// gzip.NoCompression (use gzip.DefaultCompression, gzip.BestSpeed, ...).
// An invalid level is an error.
func NewPayload(gzipped bool, level int) (*Payload, error) {
	p := &Payload{gzip: gzipped, inFlight: new(atomic.Int32)}
	if gzipped {
		zw, err := gzip.NewWriterLevel(io.Discard, level)
		if err != nil {
			return nil, fmt.Errorf("creating gzip writer: %w", err)
		}
		p.zw = zw
	}
	return p, nil
}

// Gzip reports whether bodies are compressed; the caller then sets
// Content-Encoding: gzip.
func (p *Payload) Gzip() bool { return p.gzip }

// Begin returns an empty buffer to append the next uncompressed body to.
func (p *Payload) Begin() []byte {
	if p.inFlight.Load() != 0 {
		p.raw, p.zipped, p.inFlight = nil, nil, new(atomic.Int32)
	}
	return p.raw[:0]
}

// compressChunk is how much Finish compresses between two looks at its
// context: compressing a large batch on a busy machine takes seconds, and
// a sink must still answer a cancel promptly.
const compressChunk = 1 << 20

// Finish sets raw (the buffer from Begin, appended to) as the body of the
// next Send, compressing it if asked. It gives up with ctx's error when
// ctx ends while it compresses.
func (p *Payload) Finish(ctx context.Context, raw []byte) error {
	p.raw = raw
	if !p.gzip {
		p.body = raw
		return nil
	}
	buf := bytes.NewBuffer(p.zipped[:0])
	p.zw.Reset(buf)
	for rest := raw; len(rest) > 0; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("compressing body: %w", err)
		}
		n := min(len(rest), compressChunk)
		if _, err := p.zw.Write(rest[:n]); err != nil {
			return fmt.Errorf("compressing body: %w", err)
		}
		rest = rest[n:]
	}
	if err := p.zw.Close(); err != nil {
		return fmt.Errorf("compressing body: %w", err)
	}
	p.zipped = buf.Bytes()
	p.body = p.zipped
	return nil
}

// Len is the size of the body on the wire.
func (p *Payload) Len() int { return len(p.body) }

// attach makes the body the request's, counting every reader the transport
// gets (GetBody may be called again for a retried connection).
func (p *Payload) attach(req *http.Request) {
	payload, inFlight := p.body, p.inFlight
	newBody := func() (io.ReadCloser, error) {
		inFlight.Add(1)
		return &body{Reader: bytes.NewReader(payload), inFlight: inFlight}, nil
	}
	req.Body, _ = newBody()
	req.GetBody = newBody
	req.ContentLength = int64(len(payload))
}

// body is a request body that tells its Payload when the transport is
// done with it.
type body struct {
	*bytes.Reader
	once     sync.Once
	inFlight *atomic.Int32
}

func (b *body) Close() error {
	b.once.Do(func() { b.inFlight.Add(-1) })
	return nil
}
