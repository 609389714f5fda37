package file

import (
	"encoding/binary"
	"encoding/hex"
	"hash/crc64"
	"io"
	"os"
	"time"

	"github.com/sluice-log/sluice/internal/checkpoint"
)

// devIno is a file's physical identity. The kernel reuses an inode number
// once the file is deleted and closed, so it is always checked against the
// fingerprint of the file's first bytes.
type devIno struct {
	Dev, Ino uint64
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func checksum(b []byte) uint64 { return crc64.Checksum(b, crcTable) }

// stateVersion is the version of the checkpoint document.
const stateVersion = 1

// checkpointFile is the checkpoint's name in the data dir.
const checkpointFile = "checkpoints.json"

// forgetAfter is how long a checkpoint of a file that is no longer found
// is kept, in case the file comes back (an unmounted disk).
const forgetAfter = 7 * 24 * time.Hour

// state is the checkpoint document.
type state struct {
	Version int     `json:"version"`
	Files   []entry `json:"files"`
}

// entry is one file's checkpoint: its identity and the committed offset.
type entry struct {
	// Path is where the file was last seen; informational only.
	Path  string `json:"path"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	// FingerprintBytes is how many leading bytes Fingerprint covers; less
	// than fingerprint_bytes while the file was shorter.
	FingerprintBytes int    `json:"fingerprint_bytes"`
	Fingerprint      string `json:"fingerprint"`
	Offset           int64  `json:"offset"`
	// Seen is the Unix time the file was last found.
	Seen int64 `json:"seen"`
}

func (e entry) id() devIno { return devIno{Dev: e.Dev, Ino: e.Inode} }

func (e entry) sum() uint64 {
	b, err := hex.DecodeString(e.Fingerprint)
	if err != nil || len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func hexSum(v uint64) string {
	return hex.EncodeToString(binary.BigEndian.AppendUint64(nil, v))
}

// stream is the checkpointed reading of one file's content. A file gets a
// new stream when it is truncated or replaced, so acknowledgements of
// batches read before that never move the new content's checkpoint.
type stream struct {
	tr *checkpoint.Tracker[int64]
	// Metadata saved with the checkpoint, guarded by tailer.mu.
	path  string
	id    devIno
	fpLen int
	fp    uint64
	// markIdx is 1 + the index of this stream's mark in the batch being
	// built, or 0. Only the reading goroutine uses it.
	markIdx int
}

// head reads the first n bytes of f into buf, reporting how many it got.
func head(f *os.File, buf []byte, n int) (int, error) {
	got, err := f.ReadAt(buf[:n], 0)
	if err == io.EOF {
		err = nil
	}
	return got, err
}

// tailSum is the checksum of up to len(buf) bytes ending at off, which
// recognizes a copy of a file read up to off.
func tailSum(f *os.File, buf []byte, off int64) (uint64, int, error) {
	n := int(min(off, int64(len(buf))))
	got, err := f.ReadAt(buf[:n], off-int64(n))
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, err
	}
	return checksum(buf[:n]), n, nil
}
