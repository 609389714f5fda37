package mtail

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// chunk is a run of lines from one file, shared read-only by every
// program's worker; the last worker done with it returns it to the pool.
type chunk struct {
	data     []byte
	ends     []int // end offset of each line in data
	filename string
	refs     sync.WaitGroup
	// pre[i] holds program i's top-level pattern results, line by line.
	pre   [][]match
	ready chan struct{} // prematching done
}

var chunkPool = sync.Pool{New: func() any {
	return &chunk{data: make([]byte, 0, chunkSize), ready: make(chan struct{}, 1)}
}}

const chunkSize = 16 << 10

// Feeder gives lines to programs. Lines travel in chunks of about 16 KiB
// to keep the hand-off cost per line small. A chunk first goes to a pool
// of matchers (one per core) that run every program's top-level patterns
// over its lines, the costly and line-independent part; then, in order,
// to one goroutine per program that runs the program with those results.
// So one program uses several cores, several programs more, and each
// program still sees every line in order.
type Feeder struct {
	progs []*Program
	chans []chan *chunk
	pool  chan *chunk
	order chan *chunk
	wg    sync.WaitGroup
	// observe, when set, is told how long program i took over a chunk.
	observe func(i, lines int, d time.Duration)
	cur     *chunk // being filled by Add
}

// NewFeeder starts the matchers and one worker per program; Close stops them.
func NewFeeder(progs []*Program) *Feeder { return NewObservedFeeder(progs, nil) }

// NewObservedFeeder is NewFeeder calling observe, from program i's
// goroutine, with the time program i took over each chunk of lines: one
// clock read per chunk, not per line, keeps the measure off the hot path.
func NewObservedFeeder(progs []*Program, observe func(i, lines int, d time.Duration)) *Feeder {
	n := runtime.GOMAXPROCS(0)
	fd := &Feeder{progs: progs, pool: make(chan *chunk, n), order: make(chan *chunk, n), observe: observe}
	for _, p := range progs {
		ch := make(chan *chunk, 2)
		fd.chans = append(fd.chans, ch)
		fd.wg.Add(1)
		go fd.work(p, ch)
	}
	for i := 0; i < n; i++ {
		go fd.matcher()
	}
	go fd.dispatch()
	return fd
}

func (fd *Feeder) matcher() {
	for c := range fd.pool {
		if cap(c.pre) < len(fd.progs) {
			c.pre = make([][]match, len(fd.progs))
		}
		c.pre = c.pre[:len(fd.progs)]
		for i, p := range fd.progs {
			n := len(p.top) * len(c.ends)
			if cap(c.pre[i]) < n {
				c.pre[i] = make([]match, n)
			}
			out := c.pre[i][:n]
			start := 0
			for j, end := range c.ends {
				line := c.data[start:end]
				start = end
				p.prematch(unsafe.String(unsafe.SliceData(line), len(line)), out[j*len(p.top):(j+1)*len(p.top)])
			}
			c.pre[i] = out
		}
		c.ready <- struct{}{}
	}
}

// dispatch hands matched chunks to the programs in reading order.
func (fd *Feeder) dispatch() {
	for c := range fd.order {
		<-c.ready
		for _, ch := range fd.chans {
			ch <- c
		}
	}
	for _, ch := range fd.chans {
		close(ch)
	}
}

func (fd *Feeder) work(p *Program, ch chan *chunk) {
	defer fd.wg.Done()
	idx := slices.Index(fd.progs, p)
	k := len(p.top)
	for c := range ch {
		var t0 time.Time
		if fd.observe != nil {
			t0 = time.Now()
		}
		start := 0
		pre := c.pre[idx]
		for j, end := range c.ends {
			line := c.data[start:end]
			start = end
			// The line is only read while the chunk is held; process
			// keeps nothing of it.
			_ = p.process(unsafe.String(unsafe.SliceData(line), len(line)), c.filename, pre[j*k:(j+1)*k])
		}
		if fd.observe != nil {
			fd.observe(idx, len(c.ends), time.Since(t0))
		}
		c.refs.Done()
	}
}

func (fd *Feeder) send(c *chunk) {
	if len(c.ends) == 0 {
		c.data, c.ends = c.data[:0], c.ends[:0]
		chunkPool.Put(c)
		return
	}
	c.refs.Add(len(fd.chans))
	fd.pool <- c
	fd.order <- c
	go func() {
		c.refs.Wait()
		c.data, c.ends = c.data[:0], c.ends[:0]
		chunkPool.Put(c)
	}()
}

// Lines reads r to its end, giving each line (without "\n" or "\r\n") to
// every program as coming from filename. A last line without a newline is
// given too.
func (fd *Feeder) Lines(r io.Reader, filename string) error {
	br := bufio.NewReaderSize(r, 64<<10)
	c := fd.newChunk(filename)
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			c = fd.add(c, b, err == bufio.ErrBufferFull, filename)
		}
		switch err {
		case nil, bufio.ErrBufferFull:
			continue
		case io.EOF:
			if c.partial() {
				c.ends = append(c.ends, len(c.data))
			}
			fd.send(c)
			return nil
		default:
			fd.send(c)
			return err
		}
	}
}

func (fd *Feeder) newChunk(filename string) *chunk {
	c := chunkPool.Get().(*chunk)
	c.filename = filename
	return c
}

// partial reports whether data ends with an unterminated line.
func (c *chunk) partial() bool {
	n := 0
	if len(c.ends) > 0 {
		n = c.ends[len(c.ends)-1]
	}
	return len(c.data) > n
}

// add appends b (part of a line when more is true) to the chunk, sending
// the chunk on when it is full.
func (fd *Feeder) add(c *chunk, b []byte, more bool, filename string) *chunk {
	if !more {
		b = bytes.TrimSuffix(b, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
	}
	c.data = append(c.data, b...)
	if more {
		return c
	}
	c.ends = append(c.ends, len(c.data))
	if len(c.data) < chunkSize {
		return c
	}
	fd.send(c)
	return fd.newChunk(filename)
}

// Line gives one line to every program (for callers that already split
// lines, like the live follower); it is copied.
func (fd *Feeder) Line(line []byte, filename string) {
	c := fd.newChunk(filename)
	c.data = append(c.data, line...)
	c.ends = append(c.ends, len(c.data))
	fd.send(c)
}

// Add copies one line into the chunk being filled, which goes to the
// programs when full, when the file name changes, or at Flush: for
// callers that get lines one by one (pipeline events), so they still
// travel in chunks.
func (fd *Feeder) Add(line []byte, filename string) {
	if fd.cur != nil && fd.cur.filename != filename {
		fd.Flush()
	}
	if fd.cur == nil {
		fd.cur = fd.newChunk(filename)
	}
	fd.cur = fd.add(fd.cur, line, false, filename)
}

// Flush sends the lines given to Add so far.
func (fd *Feeder) Flush() {
	if fd.cur != nil {
		fd.send(fd.cur)
		fd.cur = nil
	}
}

// Close waits for the programs to finish every line sent and stops them.
func (fd *Feeder) Close() {
	fd.Flush()
	close(fd.pool)
	close(fd.order)
	fd.wg.Wait()
}
