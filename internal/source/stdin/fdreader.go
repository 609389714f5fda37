package stdin

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// pollInterval bounds how long a Read waits before checking for Stop.
const pollInterval = 100 // milliseconds

// errStopped is returned by Read after Stop.
var errStopped = errors.New("reading stopped")

// fdReader reads a file descriptor that may be blocking (a terminal, a pipe
// or a file the shell opened): it waits in poll(2) with a timeout and reads
// only when data is ready, so Stop takes effect within pollInterval and no
// goroutine stays blocked in read(2) after the source stops. It never
// changes the descriptor's flags, which it shares with other processes
// (the shell's terminal), and never closes it.
type fdReader struct {
	fd   int
	stop atomic.Bool
	pfd  []unix.PollFd
}

func newFDReader(fd int) *fdReader {
	return &fdReader{fd: fd, pfd: []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}}
}

// Stop makes a pending or later Read return errStopped.
func (r *fdReader) Stop() { r.stop.Store(true) }

// Read implements io.Reader.
func (r *fdReader) Read(p []byte) (int, error) {
	for !r.stop.Load() {
		r.pfd[0].Revents = 0
		n, err := unix.Poll(r.pfd, pollInterval)
		if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("polling fd %d: %w", r.fd, err)
		}
		if r.pfd[0].Revents&unix.POLLNVAL != 0 {
			return 0, fmt.Errorf("reading fd %d: %w", r.fd, unix.EBADF)
		}
		n, err = unix.Read(r.fd, p)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			return 0, fmt.Errorf("reading fd %d: %w", r.fd, err)
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
	return 0, errStopped
}
