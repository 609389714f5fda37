package linesource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/lines"
)

const (
	// chunkSize is the size of one read from the input.
	chunkSize = 64 << 10
	// numChunks is how many reads may be in flight between the reading
	// goroutine and the batcher; it bounds read-ahead to numChunks*chunkSize.
	numChunks = 4
)

// errIdle is returned by pump.Read when no input is waiting; the batcher
// then emits what it has before blocking.
var errIdle = errors.New("no input waiting")

// errStopped reads as the end of the input once the reading goroutine is
// gone without a final error; it cannot happen while the pump runs.
var errStopped = errors.New("input reader stopped")

// Input is what a Pump reads.
type Input struct {
	// R is the byte stream.
	R io.Reader
	// Interrupt, if set, makes a Read blocked in R return promptly. Pump
	// calls it once, when ctx is done or else when it returns, and then
	// waits for the reading goroutine to end. Without it Pump returns on
	// cancellation without waiting, and the goroutine ends when its Read
	// does.
	Interrupt func()
	// Follow keeps reading after io.EOF, as for a FIFO whose writer went
	// away: the partial last line is flushed and reading goes on.
	Follow bool
}

// chunk is the result of one Read.
type chunk struct {
	buf  []byte // the whole buffer, to recycle
	data []byte // what was read into it
	err  error
	at   time.Time
}

// pump moves chunks from the reading goroutine into a lines.Reader. It is
// the lines.Reader's io.Reader: Read never blocks but returns errIdle, so
// the batcher can emit before waiting.
type pump struct {
	*batcher
	in     Input
	lr     *lines.Reader
	chunks chan chunk
	free   chan []byte
	stop   chan struct{}
	cur    chunk
	off    int
}

// Pump reads lines from in and emits them in batches until the input ends
// (io.EOF without Follow), ctx is done, or reading fails. A partial last
// line is emitted at the end of the input. It returns nil at the end of
// the input, ctx.Err() on cancellation, or the read error.
func Pump(ctx context.Context, in Input, emit component.Emit, o *Options) error {
	p := &pump{
		batcher: newBatcher(o, emit),
		in:      in,
		chunks:  make(chan chunk, numChunks),
		free:    make(chan []byte, numChunks),
		stop:    make(chan struct{}),
	}
	for range numChunks {
		p.free <- make([]byte, chunkSize)
	}
	p.lr = lines.NewReader(p, o.MaxLineBytes, o.Mode)
	var wg sync.WaitGroup
	wg.Go(p.read)
	stopInterrupt := func() bool { return false }
	if in.Interrupt != nil {
		stopInterrupt = context.AfterFunc(ctx, in.Interrupt)
	}
	defer func() {
		close(p.stop)
		if in.Interrupt == nil {
			return
		}
		if stopInterrupt() {
			// Not cancelled: the reader may still be in Read (a read error
			// ended the pump, or a writer is left); wake it to let it go.
			in.Interrupt()
		}
		wg.Wait()
	}()
	return p.loop(ctx)
}

// loop cuts lines and emits batches; it runs in Pump's goroutine.
func (p *pump) loop(ctx context.Context) error {
	for {
		line, long, err := p.lr.Next()
		switch {
		case err == nil:
			p.add(line, long, p.cur.at, p.waiting(len(line)))
			if p.due(p.cur.at) {
				if err := p.flush(ctx); err != nil {
					return err
				}
			}
		case errors.Is(err, errIdle):
			if err := p.flush(ctx); err != nil {
				return err
			}
			if err := p.wait(ctx); err != nil {
				return err
			}
		default:
			if done, err := p.end(ctx, err); done {
				return err
			}
		}
	}
}

// end handles the end of the input or a read error: the partial line is
// emitted with what is batched. done reports whether the pump stops.
func (p *pump) end(ctx context.Context, err error) (done bool, _ error) {
	if line, ok := p.lr.Flush(); ok {
		p.add(line, false, p.cur.at, len(line))
	}
	p.prevLong = false
	if ferr := p.flush(ctx); ferr != nil {
		return true, ferr
	}
	switch {
	case errors.Is(err, io.EOF) && p.in.Follow:
		return false, nil
	case errors.Is(err, io.EOF), errors.Is(err, errStopped):
		return true, nil
	case ctx.Err() != nil:
		return true, ctx.Err()
	}
	return true, fmt.Errorf("reading input: %w", err)
}

// waiting estimates the bytes waiting to be cut into lines, counting the
// current line (n bytes), the buffered rest and the chunks read ahead.
func (p *pump) waiting(n int) int {
	return n + p.lr.Buffered() + len(p.cur.data) - p.off + len(p.chunks)*chunkSize
}

// wait blocks until the next chunk arrives or ctx is done.
func (p *pump) wait(ctx context.Context) error {
	select {
	case c, ok := <-p.chunks:
		p.take(c, ok)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take makes c the current chunk; a closed channel reads as errStopped.
func (p *pump) take(c chunk, ok bool) {
	if !ok {
		c = chunk{err: errStopped, at: p.cur.at}
	}
	p.cur, p.off = c, 0
}

// Read implements io.Reader for the lines.Reader: it hands out the current
// chunk, then its error, then the next chunk if one is waiting, or errIdle.
func (p *pump) Read(b []byte) (int, error) {
	for p.off == len(p.cur.data) {
		if err := p.cur.err; err != nil {
			p.cur.err = nil
			return 0, err
		}
		if p.cur.buf != nil {
			p.free <- p.cur.buf
			p.cur.buf = nil
		}
		select {
		case c, ok := <-p.chunks:
			p.take(c, ok)
		default:
			return 0, errIdle
		}
	}
	n := copy(b, p.cur.data[p.off:])
	p.off += n
	return n, nil
}

// read runs in its own goroutine, reading chunks until the input ends,
// fails, or the pump stops.
func (p *pump) read() {
	defer close(p.chunks)
	empty := 0
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, err := p.in.R.Read(buf)
		if n == 0 && err == nil {
			// A misbehaving reader; don't spin on it forever.
			if empty++; empty < 100 {
				p.free <- buf
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
		c := chunk{buf: buf, data: buf[:n], err: err, at: time.Now()}
		select {
		case p.chunks <- c:
		case <-p.stop:
			return
		}
		if err != nil && !(p.in.Follow && errors.Is(err, io.EOF)) {
			return
		}
	}
}
