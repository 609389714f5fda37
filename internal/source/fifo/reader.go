package fifo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeReader reads a FIFO opened O_RDONLY|O_NONBLOCK through Go's poller.
//
// read(2) on such a descriptor returns EAGAIN while a writer is connected
// but silent, and 0 while no writer is connected, both before the first
// writer and after the last one closed. pipeReader tells them apart by
// whether data came since the last end: 0 after data is the end of a
// writer's stream (io.EOF, so its partial line is emitted), 0 before any
// data means "no writer yet" and the goroutine parks until the poller
// reports a change. The poller is edge-triggered, so the lasting hang-up
// state of a writer-less pipe does not wake it again and again.
//
// The pipe is never reopened between writers: closing the read end would
// throw away anything a new writer had already written, and make its
// writes fail with EPIPE.
type pipeReader struct {
	rc syscall.RawConn

	// Arguments and results of readFD, which RawConn.Read calls.
	p      []byte
	n      int
	err    error
	readFn func(fd uintptr) bool

	sawData bool // data came since the pipe was opened or last hit EOF
	calls   int  // readFD calls, for tests: a busy loop would show here
}

func newPipeReader(f *os.File) (*pipeReader, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("fifo %s: %w", f.Name(), err)
	}
	r := &pipeReader{rc: rc}
	r.readFn = r.readFD
	return r, nil
}

// Read implements io.Reader. It blocks until data or the end of a writer's
// stream, and returns io.EOF at the latter; reading on waits for the next
// writer.
func (r *pipeReader) Read(p []byte) (int, error) {
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.readFn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	return r.n, r.err
}

// readFD does one read(2); it returns false to wait for the poller.
func (r *pipeReader) readFD(fd uintptr) bool {
	r.calls++
	n, err := unix.Read(int(fd), r.p)
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Read(int(fd), r.p)
	}
	switch {
	case errors.Is(err, unix.EAGAIN):
		return false // a writer is connected but silent
	case err != nil:
		r.err = fmt.Errorf("reading fifo: %w", err)
		return true
	case n > 0:
		r.n, r.sawData = n, true
		return true
	case r.sawData:
		r.sawData, r.err = false, io.EOF
		return true
	}
	return false // no writer connected: wait for one
}
