// Package host keeps the mtail programs of a running sluice (the
// metrics.mtail section) across reloads and exposes their metrics; the
// mtail sink (internal/mtail/mtailsink) feeds them.
package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/mtail"
)

// Host keeps the program sets of a running sluice (one per metrics.mtail
// section) across reloads, so a program whose text and options did not
// change keeps its metrics when its sink is rebuilt or the config is
// re-read. The app owns one Host and exposes its two collectors: the
// programs' metrics (Programs) and sluice's own series about them (Self).
type Host struct {
	mu   sync.Mutex
	sets map[string]*Set

	dur    *prometheus.HistogramVec
	loads  *prometheus.CounterVec
	errors *prometheus.Desc
	lines  *prometheus.Desc
}

// NewHost returns a Host with no programs.
func NewHost() *Host {
	return &Host{sets: map[string]*Set{},
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sluice_mtail_line_processing_seconds",
			Help:    "Time an mtail program took per line, averaged over each chunk of lines it ran over (one observation per chunk of up to 16 KiB of one sink write).",
			Buckets: prometheus.ExponentialBuckets(1e-7, 4, 10)}, []string{"prog"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_mtail_program_loads_total",
			Help: "Times an mtail program was compiled and loaded (at start, and at a reload that changed it)."}, []string{"prog"}),
		errors: prometheus.NewDesc("sluice_mtail_runtime_errors_total",
			"Lines whose mtail program run ended in a runtime error (since the program's last load).", []string{"prog"}, nil),
		lines: prometheus.NewDesc("sluice_mtail_lines_total",
			"Lines an mtail program ran over (since the program's last load).", []string{"prog"}, nil),
	}
}

// SetConfig is what a set of programs is loaded from.
type SetConfig struct {
	// Dir is a directory of *.mtail files, or one file.
	Dir           string
	Options       mtail.Options
	EmitProgLabel bool
	EmitTimestamp bool
}

// key identifies what a program's compiled form depends on besides its text.
func (c *SetConfig) key() string {
	loc := "UTC"
	if c.Options.Location != nil {
		loc = c.Options.Location.String()
	}
	return fmt.Sprintf("%s|%t|%t", loc, c.Options.SyslogUseCurrentYear, c.Options.LogRuntimeErrors)
}

// Set is the programs of one metrics.mtail section and the feeder that
// runs them. Its sink feeds it; Apply swaps programs in.
type Set struct {
	h       *Host
	mu      sync.Mutex // guards everything below
	cfg     SetConfig
	progs   []*mtail.Program
	keys    map[string]string // program name -> options key + text
	fd      *mtail.Feeder
	refs    int
	lastGC  time.Time
	obs     []prometheus.Observer
	gcEvery time.Duration
	// view is what scrapes read, so that they never wait for a Feed
	// held up by busy programs.
	view atomic.Pointer[view]
}

type view struct {
	cfg   SetConfig
	progs []*mtail.Program
}

// Apply loads the programs of cfg into the set id, creating it: a program
// whose text and options are unchanged is kept with its metrics, others
// are compiled afresh. A program that does not compile (or cannot be
// read) keeps its previous version; the errors are returned, to be
// logged, with the rest applied. (At start the config loader has compiled
// every program already: a broken one never gets here.)
func (h *Host) Apply(id string, cfg SetConfig) (*Set, error) {
	h.mu.Lock()
	s, ok := h.sets[id]
	if !ok {
		s = &Set{h: h, keys: map[string]string{}, gcEvery: time.Hour}
	}
	h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	progs, keys, err := s.load(cfg)
	h.mu.Lock()
	h.sets[id] = s
	h.mu.Unlock()
	s.cfg, s.keys = cfg, keys
	if !samePrograms(s.progs, progs) {
		s.stopFeeder()
		s.progs = progs
		s.obs = make([]prometheus.Observer, len(progs))
		for i, p := range progs {
			s.obs[i] = h.dur.WithLabelValues(p.Name)
		}
	}
	s.view.Store(&view{cfg: cfg, progs: progs})
	return s, err
}

// load compiles what changed in cfg.Dir; it keeps the previous version of
// a program that no longer compiles (or cannot be read).
func (s *Set) load(cfg SetConfig) ([]*mtail.Program, map[string]string, error) {
	files, err := mtail.ProgramFiles(cfg.Dir)
	if err != nil {
		return s.progs, s.keys, err // keep what runs
	}
	old := map[string]*mtail.Program{}
	for _, p := range s.progs {
		old[p.Name] = p
	}
	var progs []*mtail.Program
	var errs []error
	keys := map[string]string{}
	for _, path := range files {
		name := filepath.Base(path)
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading program: %w", err))
		}
		key := cfg.key() + "\x00" + string(src)
		if p, ok := old[name]; ok && (err != nil || s.keys[name] == key) {
			progs, keys[name] = append(progs, p), s.keys[name]
			continue
		}
		if err != nil {
			continue
		}
		p, err := mtail.Compile(name, string(src), cfg.Options)
		if err != nil {
			errs = append(errs, err)
			if p, ok := old[name]; ok {
				progs, keys[name] = append(progs, p), s.keys[name]
			}
			continue
		}
		s.h.loads.WithLabelValues(name).Inc()
		progs, keys[name] = append(progs, p), key
	}
	return progs, keys, errors.Join(errs...)
}

func samePrograms(a, b []*mtail.Program) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// stopFeeder waits for the lines given so far and stops the feeder.
func (s *Set) stopFeeder() {
	if s.fd != nil {
		s.fd.Close()
		s.fd = nil
	}
}

// Acquire and Release count the sinks using the set: the last one out
// stops the feeder (after every line is processed), keeping the metrics.
func (s *Set) Acquire() {
	s.mu.Lock()
	s.refs++
	s.mu.Unlock()
}

// Release is Acquire's pair; see there.
func (s *Set) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refs--; s.refs == 0 {
		s.stopFeeder()
	}
}

// Feed gives n lines to every program; line(i) returns the i-th line and
// the file name getfilename() returns for it. The lines are copied: the
// programs run them in the background, on several cores.
func (s *Set) Feed(n int, line func(i int) ([]byte, string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.progs) == 0 {
		return
	}
	if s.fd == nil {
		obs := s.obs
		s.fd = mtail.NewObservedFeeder(s.progs, func(i, lines int, d time.Duration) {
			if lines > 0 {
				obs[i].Observe(d.Seconds() / float64(lines))
			}
		})
	}
	for i := range n {
		b, name := line(i)
		s.fd.Add(b, name)
	}
	s.fd.Flush()
	if now := time.Now(); now.Sub(s.lastGC) >= s.gcEvery {
		// mtail's expired-metrics GC (`del ... after`, `limit`), hourly.
		s.lastGC = now
		for _, p := range s.progs {
			p.Expire(now)
		}
	}
}

// Programs returns the set's current programs.
func (s *Set) Programs() []*mtail.Program {
	if v := s.view.Load(); v != nil {
		return v.progs
	}
	return nil
}

// Retain drops the sets whose id keep does not report, after a reload
// removed their section.
func (h *Host) Retain(keep func(id string) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.sets {
		if !keep(id) {
			s.mu.Lock()
			s.stopFeeder()
			s.mu.Unlock()
			delete(h.sets, id)
		}
	}
}

func (h *Host) each(f func(*Set)) {
	h.mu.Lock()
	sets := make([]*Set, 0, len(h.sets))
	for _, s := range h.sets {
		sets = append(sets, s)
	}
	h.mu.Unlock()
	for _, s := range sets {
		f(s)
	}
}

// Programs is the collector of the programs' metrics, as `sluice mtail`
// exposes them (prog label, names, types).
func (h *Host) Programs() prometheus.Collector { return (*programsCollector)(h) }

// Self is the collector of sluice's own series about the programs.
func (h *Host) Self() prometheus.Collector { return (*selfCollector)(h) }

type programsCollector Host

func (c *programsCollector) Describe(chan<- *prometheus.Desc) {}

func (c *programsCollector) Collect(ch chan<- prometheus.Metric) {
	(*Host)(c).each(func(s *Set) {
		v := s.view.Load()
		if v == nil {
			return
		}
		col := &mtail.Collector{Programs: func() []*mtail.Program { return v.progs }, EmitProgLabel: v.cfg.EmitProgLabel,
			EmitTimestamp: v.cfg.EmitTimestamp}
		col.Collect(ch)
	})
}

type selfCollector Host

func (c *selfCollector) Describe(ch chan<- *prometheus.Desc) {
	c.dur.Describe(ch)
	c.loads.Describe(ch)
	ch <- c.errors
	ch <- c.lines
}

func (c *selfCollector) Collect(ch chan<- prometheus.Metric) {
	c.dur.Collect(ch)
	c.loads.Collect(ch)
	(*Host)(c).each(func(s *Set) {
		for _, p := range s.Programs() {
			ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(p.RuntimeErrors()), p.Name)
			ch <- prometheus.MustNewConstMetric(c.lines, prometheus.CounterValue, float64(p.Lines()), p.Name)
		}
	})
}

var (
	_ prometheus.Collector = (*programsCollector)(nil)
	_ prometheus.Collector = (*selfCollector)(nil)
)
