package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
)

// A record is one batch in a segment file:
//
//	payload length uint32 LE | event count uint32 LE | CRC-32C uint32 LE | payload
//
// The payload is the batch in the encoding of package wire. The CRC
// (Castagnoli) covers the first eight header bytes and the payload, so a
// damaged length or count is caught as well as damaged events.
const headerSize = 12

// maxRecord bounds one record's payload. Larger batches are refused on
// Push, and a larger length read from disk marks the record as damaged.
const maxRecord = 128 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segment file names: 16 decimal digits of sequence number, then a suffix.
const (
	segSuffix = ".seg"
	badSuffix = ".seg.bad"
)

func segName(seq uint64) string { return fmt.Sprintf("%016d%s", seq, segSuffix) }

func badName(seq uint64) string { return fmt.Sprintf("%016d%s", seq, badSuffix) }

// parseSegName returns the sequence number of a segment or quarantined
// segment file name, and whether it is quarantined.
func parseSegName(name string) (seq uint64, bad, ok bool) {
	digits, found := strings.CutSuffix(name, badSuffix)
	bad = found
	if !found {
		if digits, found = strings.CutSuffix(name, segSuffix); !found {
			return 0, false, false
		}
	}
	if len(digits) != 16 {
		return 0, false, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, bad, err == nil
}

// beginRecord reserves a record header at the end of buf; the caller
// appends the payload and calls finishRecord with the returned start.
func beginRecord(buf []byte) ([]byte, int) {
	return append(buf, make([]byte, headerSize)...), len(buf)
}

// finishRecord fills in the header of the record starting at start.
func finishRecord(buf []byte, start, events int) ([]byte, error) {
	n := len(buf) - start - headerSize
	if n > maxRecord {
		return buf[:start], fmt.Errorf("batch of %d bytes exceeds the record limit of %d", n, maxRecord)
	}
	h := buf[start : start+headerSize]
	binary.LittleEndian.PutUint32(h[0:], uint32(n))
	binary.LittleEndian.PutUint32(h[4:], uint32(events))
	crc := crc32.Update(crc32.Checksum(h[:8], castagnoli), castagnoli, buf[start+headerSize:])
	binary.LittleEndian.PutUint32(h[8:], crc)
	return buf, nil
}

// appendRecord appends a record holding evs to buf.
func appendRecord(buf []byte, evs []event.Event) ([]byte, error) {
	buf, start := beginRecord(buf)
	buf, err := wire.AppendBatch(buf, evs)
	if err != nil {
		return buf[:start], err
	}
	return finishRecord(buf, start, len(evs))
}

// header is a decoded record header.
type header struct {
	length uint32
	events uint32
	crc    uint32
}

func parseHeader(b []byte) header {
	return header{
		length: binary.LittleEndian.Uint32(b[0:]),
		events: binary.LittleEndian.Uint32(b[4:]),
		crc:    binary.LittleEndian.Uint32(b[8:]),
	}
}

func (h header) check(hb, payload []byte) bool {
	return crc32.Update(crc32.Checksum(hb[:8], castagnoli), castagnoli, payload) == h.crc
}

// errFraming means a record's header is unusable: cut short, a zero or
// too large length, or a record running past the end of its segment.
var errFraming = errors.New("bad record framing")

// errChecksum means a record is complete but its checksum does not match.
var errChecksum = errors.New("record checksum mismatch")

// readRecord reads the record at off, which must end at or before limit.
// It returns the payload, the record's event count and its total size.
func readRecord(r io.ReaderAt, off, limit int64) ([]byte, int, int64, error) {
	var hb [headerSize]byte
	events, size, err := readHeader(r, &hb, off, limit)
	if err != nil {
		return nil, 0, 0, err
	}
	payload := make([]byte, size-headerSize)
	if _, err := r.ReadAt(payload, off+headerSize); err != nil {
		return nil, 0, 0, fmt.Errorf("reading record: %w", err)
	}
	if !parseHeader(hb[:]).check(hb[:], payload) {
		return nil, 0, size, errChecksum
	}
	return payload, events, size, nil
}

// scanResult describes the readable records of a segment from a start offset.
type scanResult struct {
	end     int64 // offset after the last good record
	records int
	events  int
	bytes   int64
	err     error // nil when the records reach the end of the segment exactly
	// tail reports that the damage can be a write cut short by a crash:
	// bad framing, or a bad checksum on a record that ends the segment.
	tail bool
}

// scan walks the records of a segment of the given size from start. With
// verify it reads every payload and checks its CRC; without, it only
// follows the headers (checksums are then checked when records are read).
func scan(r io.ReaderAt, start, size int64, verify bool) scanResult {
	res := scanResult{end: start}
	var hb [headerSize]byte
	for res.end < size {
		var n int64
		var events int
		var err error
		if verify {
			_, events, n, err = readRecord(r, res.end, size)
		} else {
			events, n, err = readHeader(r, &hb, res.end, size)
		}
		if err != nil {
			res.err = err
			res.tail = errors.Is(err, errFraming) || (errors.Is(err, errChecksum) && res.end+n == size)
			return res
		}
		res.end += n
		res.records++
		res.events += events
		res.bytes += n
	}
	return res
}

func readHeader(r io.ReaderAt, hb *[headerSize]byte, off, limit int64) (int, int64, error) {
	if limit-off < headerSize {
		return 0, 0, errFraming
	}
	if _, err := r.ReadAt(hb[:], off); err != nil {
		return 0, 0, fmt.Errorf("reading record header: %w", err)
	}
	h := parseHeader(hb[:])
	size := headerSize + int64(h.length)
	if h.length == 0 || h.length > maxRecord || size > limit-off {
		return 0, 0, errFraming
	}
	return int(h.events), size, nil
}
