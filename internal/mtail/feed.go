package mtail

import (
	"bufio"
	"bytes"
	"io"
	"sync"
	"unsafe"
)

// chunk is a run of lines from one file, shared read-only by every
// program's worker; the last worker done with it returns it to the pool.
type chunk struct {
	data     []byte
	ends     []int // end offset of each line in data
	filename string
	refs     sync.WaitGroup
}

var chunkPool = sync.Pool{New: func() any { return &chunk{data: make([]byte, 0, chunkSize)} }}

const chunkSize = 256 << 10

// Feeder gives lines to programs, one goroutine per program, so several
// programs use several cores while each program still sees every line in
// order. Lines travel in chunks of up to 256 KiB to keep the hand-off cost
// per line small.
type Feeder struct {
	progs []*Program
	chans []chan *chunk
	wg    sync.WaitGroup
}

// NewFeeder starts one worker per program; Close stops them.
func NewFeeder(progs []*Program) *Feeder {
	fd := &Feeder{progs: progs}
	for _, p := range progs {
		ch := make(chan *chunk, 4)
		fd.chans = append(fd.chans, ch)
		fd.wg.Add(1)
		go fd.work(p, ch)
	}
	return fd
}

func (fd *Feeder) work(p *Program, ch chan *chunk) {
	defer fd.wg.Done()
	for c := range ch {
		start := 0
		for _, end := range c.ends {
			line := c.data[start:end]
			start = end
			// The line is only read while the chunk is held; Process
			// keeps nothing of it.
			_ = p.Process(unsafe.String(unsafe.SliceData(line), len(line)), c.filename)
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
	for _, ch := range fd.chans {
		ch <- c
	}
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

// Close waits for the programs to finish every line sent and stops them.
func (fd *Feeder) Close() {
	for _, ch := range fd.chans {
		close(ch)
	}
	fd.wg.Wait()
}
