package file

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/checkpoint"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/lines"
)

// file is one followed file: an open or closed descriptor, how far it was
// read, and the stream its checkpoint belongs to. Its lifecycle: found by a
// glob scan; read whenever its size grows; closed when descriptors run
// short and reopened (after checking its identity) when it grows again;
// truncated or replaced content starts a new stream at offset 0; once its
// path no longer leads to it (renamed away, deleted) it is read to its end
// and dropped after rotate_wait without new data.
type file struct {
	path   string // where it was found: the events' stream
	cur    string // where it is now; "" once no glob finds it
	id     devIno
	fd     *os.File
	size   int64
	mtime  time.Time
	offset int64 // the next byte to read: the end of the last line taken
	st     *stream

	skipRest bool // offset is inside a truncated long line
	inLong   bool // the last line was cut at max_line_bytes
	tailLen  int  // bytes before offset that tailSum covers
	tailSum  uint64
	rec      record

	goneAt   time.Time // when its path stopped leading to it
	lastData time.Time // when it last grew or was read
	active   bool      // queued for reading
	dropped  bool
	lag      prometheus.Gauge
}

// tailer is the state of one Run. Everything but the fields under mu and
// the atomics belongs to the reading goroutine.
type tailer struct {
	*Source
	emit  component.Emit
	store *checkpoint.Store
	fresh bool // no checkpoint existed: the very first start
	once  bool

	files      map[*file]struct{}
	byPath     map[string]*file
	active     []*file
	pending    map[*file]struct{} // files with a multi-line record
	unreadable map[devIno]time.Time
	retired    []retired
	open       int

	r        *lines.Reader
	src      offsetReader
	attached *file
	discard  bool // drop the first line read after attaching
	cur      *file
	curNow   time.Time
	b        builder
	buf      []byte // fingerprint scratch

	notify   *notifier
	lastScan time.Time
	lastPoll time.Time
	scanSoon bool
	// rescanAt, when set, brings the next scan forward: a new file was left
	// undecided (a copy still being written, see copyInProgress).
	rescanAt time.Time

	mu      sync.Mutex
	streams map[*stream]struct{}
	saved   map[devIno]savedEntry // checkpoints not matched to a file yet

	outstanding atomic.Int64
	ackWake     chan struct{}
	dirty       atomic.Bool
	abandoned   atomic.Bool
}

// retired remembers a truncated file's old content, so a copy of it made
// by copytruncate continues where the reading stopped.
type retired struct {
	fp      uint64
	offset  int64
	tailLen int
	tailSum uint64
}

// offsetReader reads a file from an offset with pread, so the descriptor's
// own position never matters.
type offsetReader struct {
	f   *os.File
	off int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.f.ReadAt(p, o.off)
	o.off += int64(n)
	return n, err
}

func newTailer(s *Source, store *checkpoint.Store, emit component.Emit) *tailer {
	t := &tailer{
		Source: s, emit: emit, store: store, once: s.deps.Once,
		files: map[*file]struct{}{}, byPath: map[string]*file{}, pending: map[*file]struct{}{},
		unreadable: map[devIno]time.Time{}, streams: map[*stream]struct{}{}, saved: map[devIno]savedEntry{},
		r:       lines.NewReader(nil, int(s.cfg.MaxLineBytes), s.mode),
		buf:     make([]byte, s.cfg.FingerprintBytes),
		ackWake: make(chan struct{}, 1),
	}
	t.b.init(s)
	t.load()
	return t
}

// load reads the checkpoint. A corrupt or unreadable one counts as an
// existing state, so unknown files are read from their beginning: better
// duplicates than loss.
func (t *tailer) load() {
	var st state
	found, err := t.store.Load(&st)
	if err != nil {
		t.errs.error("loading checkpoint; files without one start per read_from", "error", err)
		return
	}
	t.fresh = !found
	if st.Version > stateVersion {
		t.errs.error("checkpoint written by a newer sluice; ignoring it", "version", st.Version)
		return
	}
	for _, e := range st.Files {
		t.saved[e.id()] = savedEntry{entry: e, sum: e.sum()}
	}
}

func (t *tailer) run(ctx context.Context) error {
	now := t.now()
	t.scan(now, true)
	t.lastPoll = now
	if !t.once {
		t.startNotify()
		defer t.notify.close()
	}
	t.save() // the first checkpoint: from now on this is not a first start
	stop, stopped := make(chan struct{}), make(chan struct{})
	go t.writer(stop, stopped)
	var err error
	if t.once {
		err = t.runOnce(ctx)
	} else {
		err = t.follow(ctx)
	}
	t.waitAcks(ctx)
	close(stop)
	<-stopped
	t.save()
	t.closeAll()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	return err
}

// follow reads until ctx is done.
func (t *tailer) follow(ctx context.Context) error {
	for ctx.Err() == nil {
		now := t.now()
		if t.scanSoon || now.Sub(t.lastScan) >= t.cfg.GlobInterval.D() || (!t.rescanAt.IsZero() && !now.Before(t.rescanAt)) {
			t.scan(now, false)
		}
		if now.Sub(t.lastPoll) >= t.cfg.PollInterval.D() {
			t.poll(ctx, now)
		}
		t.drainNotify(now)
		if err := t.readActive(ctx, now); err != nil {
			return err
		}
		if len(t.active) > 0 {
			continue // more to read; flush when caught up or full
		}
		if t.joiner != nil {
			t.expire(t.now())
		}
		if err := t.flush(ctx); err != nil {
			return err
		}
		t.sleep(ctx)
	}
	return ctx.Err()
}

// runOnce reads every file to its end, including partial last lines.
func (t *tailer) runOnce(ctx context.Context) error {
	for len(t.active) > 0 {
		if err := t.readActive(ctx, t.now()); err != nil {
			return err
		}
	}
	for f := range t.files {
		if err := t.readRest(ctx, f); err != nil {
			return err
		}
	}
	return t.flush(ctx)
}

// sleep waits for the next scan, poll or multi-line timeout, or for a
// directory notification.
func (t *tailer) sleep(ctx context.Context) {
	next := t.lastScan.Add(t.cfg.GlobInterval.D())
	if p := t.lastPoll.Add(t.cfg.PollInterval.D()); p.Before(next) {
		next = p
	}
	if !t.rescanAt.IsZero() && t.rescanAt.Before(next) {
		next = t.rescanAt
	}
	if t.joiner != nil {
		for f := range t.pending {
			if d := t.joiner.deadline(&f.rec); !d.IsZero() && d.Before(next) {
				next = d
			}
		}
	}
	d := next.Sub(t.now())
	if d <= 0 || t.scanSoon || t.lastPoll.IsZero() {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-t.notify.wakeup():
	}
}

// waitAcks waits until every emitted batch is released: without limit in
// once mode while ctx lives, then at most waitMax.
func (t *tailer) waitAcks(ctx context.Context) {
	if t.once {
		for t.outstanding.Load() > 0 && ctx.Err() == nil {
			select {
			case <-t.ackWake:
			case <-ctx.Done():
			}
		}
	}
	if t.outstanding.Load() == 0 {
		return
	}
	timer := time.NewTimer(t.waitMax)
	defer timer.Stop()
	for t.outstanding.Load() > 0 {
		select {
		case <-t.ackWake:
		case <-timer.C:
			t.log.Warn("gave up waiting for acknowledgements; unacknowledged lines will be read again after a restart",
				"batches", t.outstanding.Load())
			return
		}
	}
}

// writer saves the checkpoint when acknowledgements moved it, at most once
// per checkpoint_interval.
func (t *tailer) writer(stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(t.cfg.CheckpointInterval.D())
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if t.dirty.Swap(false) {
				t.save()
			}
		}
	}
}

func (t *tailer) save() {
	if err := t.store.Save(t.snapshot()); err != nil {
		t.errs.error("saving checkpoint", "error", err)
		t.dirty.Store(true)
	}
}

// closeAll closes every descriptor at the end of Run.
func (t *tailer) closeAll() {
	for f := range t.files {
		t.closeFD(f)
	}
}

// fail reports an I/O error on a file.
func (t *tailer) fail(what string, f *file, err error) {
	t.errs.error(what, "path", f.path, "error", err)
}
