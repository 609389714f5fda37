package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/telemetry"
)

// The ack file holds the watermark: magic, segment sequence number and
// offset (uint64 LE each), and a CRC-32C of those 24 bytes. It is replaced
// by writing ack.tmp and renaming it.
const (
	ackFile  = "ack"
	ackMagic = "SLQACK01"
	ackSize  = 28
)

func encodeWatermark(p position) []byte {
	b := make([]byte, 0, ackSize)
	b = append(b, ackMagic...)
	b = binary.LittleEndian.AppendUint64(b, p.seg)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.off))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeWatermark(b []byte) (position, error) {
	if len(b) != ackSize || string(b[:8]) != ackMagic ||
		crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return position{}, errors.New("damaged ack file")
	}
	off := binary.LittleEndian.Uint64(b[16:])
	if off > 1<<62 {
		return position{}, errors.New("damaged ack file: offset out of range")
	}
	return position{seg: binary.LittleEndian.Uint64(b[8:]), off: int64(off)}, nil
}

// writeWatermark replaces the ack file. With durable, the new file and the
// rename are synced before it returns.
func writeWatermark(dir string, p position, durable bool) error {
	tmp := filepath.Join(dir, ackFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating ack file: %w", err)
	}
	_, err = f.Write(encodeWatermark(p))
	if err == nil && durable {
		err = datasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing ack file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ackFile)); err != nil {
		return fmt.Errorf("renaming ack file: %w", err)
	}
	if durable {
		return syncDir(dir)
	}
	return nil
}

// readWatermark reads the ack file; a missing file is the start of the log.
func readWatermark(dir string) (position, error) {
	b, err := os.ReadFile(filepath.Join(dir, ackFile))
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("reading ack file: %w", err)
	}
	return decodeWatermark(b)
}

// listSegments returns the sequence numbers of the segment files in dir,
// in order, and the highest sequence number used by any segment or
// quarantined segment.
func listSegments(dir string) ([]uint64, uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("listing buffer directory: %w", err)
	}
	var seqs []uint64
	var top uint64
	for _, e := range ents {
		seq, bad, ok := parseSegName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		top = max(top, seq)
		if !bad {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs, top, nil
}

// openStore opens and recovers a buffer directory.
func openStore(dir string, opts Options, m *telemetry.Component, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating buffer directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &store{
		dir: dir, lock: lock, opts: opts, m: m, log: log, handles: 1,
		corrupts: corruptCounter(m),
		changed:  make(chan struct{}), kick: make(chan struct{}, 1), syncKick: make(chan struct{}, 1),
		stop: make(chan struct{}), syncStop: make(chan struct{}), finished: make(chan struct{}),
	}
	if err := s.recover(); err != nil {
		for _, g := range s.segs {
			g.f.Close()
		}
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	s.wg.Add(2)
	go s.writeLoop()
	go s.saveLoop(opts.WatermarkInterval)
	s.syncWG.Add(1)
	go s.syncLoop()
	return s, nil
}

func corruptCounter(m *telemetry.Component) prometheus.Counter {
	return m.Counter("buffer_corrupt_segments_total",
		"Disk buffer segments found damaged; their records after the damage were skipped and the file renamed to .seg.bad.", nil)
}

// recover rebuilds the store's state from the directory: it reads the
// watermark, deletes segments wholly before it, checks the others and
// starts a new segment to write to.
func (s *store) recover() error {
	wm, err := readWatermark(s.dir)
	if err != nil {
		s.log.Warn("ignoring the disk buffer's ack file; all stored records are delivered again", "error", err)
		wm = position{}
	}
	s.saved = wm
	_ = os.Remove(filepath.Join(s.dir, ackFile+".tmp"))
	seqs, top, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	for i, seq := range seqs {
		if seq < wm.seg {
			if err := os.Remove(filepath.Join(s.dir, segName(seq))); err != nil {
				return fmt.Errorf("deleting acknowledged segment: %w", err)
			}
			continue
		}
		if err := s.recoverSegment(seq, wm, i == len(seqs)-1); err != nil {
			return err
		}
	}
	g, err := createSegment(s.dir, max(top, wm.seg)+1, s.opts.Fsync != FsyncNever)
	if err != nil {
		return err
	}
	s.segs = append(s.segs, g)
	if s.rseg == nil {
		s.rseg = g
	}
	s.advance()
	s.collect()
	s.gauges()
	return nil
}

// recoverSegment checks one segment from the watermark on. A damaged end of
// the last segment is a write cut short by a crash and is truncated away;
// damage anywhere else makes the rest of the segment unreadable.
func (s *store) recoverSegment(seq uint64, wm position, last bool) error {
	name := filepath.Join(s.dir, segName(seq))
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening buffer segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("reading buffer segment: %w", err)
	}
	start := int64(0)
	if seq == wm.seg {
		start = min(wm.off, st.Size())
	}
	res := scan(f, start, st.Size(), last)
	g := &segment{seq: seq, f: f, size: st.Size(), sealed: true, corrupt: -1,
		counts: counts{res.records, res.events, res.bytes}}
	switch {
	case res.err == nil:
	case last && res.tail:
		if err := f.Truncate(res.end); err != nil {
			f.Close()
			return fmt.Errorf("truncating torn buffer segment: %w", err)
		}
		s.log.Warn("truncated a partly written record at the end of the disk buffer",
			"segment", segName(seq), "offset", res.end, "bytes", st.Size()-res.end)
		g.size = res.end
	default:
		g.corrupt = res.end
		s.corrupts.Inc()
		s.m.Errors.Inc()
		s.log.Error("damaged disk buffer segment; records after the damage are skipped",
			"segment", segName(seq), "offset", res.end, "error", res.err)
	}
	s.segs = append(s.segs, g)
	if s.rseg == nil {
		s.rseg, s.roff = g, start
	}
	s.queued += res.records
	s.events += res.events
	s.bytes += res.bytes
	return nil
}
