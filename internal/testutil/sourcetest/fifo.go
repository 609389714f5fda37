package sourcetest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"
)

// WriteFIFO writes lines, each followed by a newline, into the named pipe
// at path as one writer: it waits up to wait for the pipe to exist and a
// reader to open it (opening without one fails with ENXIO rather than
// blocking, so nothing hangs when the source is gone), writes, and closes.
func WriteFIFO(path string, lines []string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if (errors.Is(err, syscall.ENXIO) || errors.Is(err, fs.ErrNotExist)) && time.Now().Before(deadline) {
			<-tick.C // no reader (or no pipe) yet
			continue
		}
		if err != nil {
			return fmt.Errorf("opening fifo for writing: %w", err)
		}
		_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
}
