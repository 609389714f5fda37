// Package daemon is `sluice mtail` without --one_shot: it follows the log
// files named by --logs, runs every program over each new line and serves
// the metrics over HTTP (/metrics, /json) on a TCP address or a unix
// socket, like mtail. Reload re-reads the programs directory: unchanged
// programs keep their metrics, changed ones start afresh, and one that no
// longer compiles keeps running in its old version.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/mtail"
)

// Config is what `sluice mtail` passes from its flags.
type Config struct {
	Progs                    string
	Logs                     []string
	Address, Port            string
	UnixSocket               string
	Options                  mtail.Options
	EmitProgLabel            bool
	EmitTimestamp            bool
	PollInterval             time.Duration
	ExpiredMetricsGCInterval time.Duration
	Logger                   *slog.Logger
	// Reload asks for the programs to be re-read (SIGHUP).
	Reload <-chan struct{}
	// Listening, when set, is told the bound address (port 0 resolved)
	// once the log files present at start are open.
	Listening func(net.Addr)
}

// daemon holds the running programs; progs is swapped on reload.
type daemon struct {
	cfg     Config
	mu      sync.Mutex
	progs   []*mtail.Program
	sources map[string]string // program name -> its text
	loads   *prometheus.CounterVec
	lines   *prometheus.CounterVec
	// rotations and durations are mtail's log_rotations_total and
	// mtail_vm_line_processing_duration_seconds.
	rotations *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

// Run serves until ctx ends. A program that fails to compile at start is
// an error; at reload it is logged and the old version kept.
func Run(ctx context.Context, cfg Config) error {
	d := &daemon{cfg: cfg, sources: map[string]string{},
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "prog_loads_total",
			Help: "Number of times each program was loaded."}, []string{"prog"}),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "log_lines_total",
			Help: "Lines read from each log file."}, []string{"logfile"}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "log_rotations_total",
			Help: "Rotations (the path renamed to a new file, or truncated) of each log file."}, []string{"logfile"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mtail_vm_line_processing_duration_seconds",
			Help:    "Time a program took per line, averaged over each chunk of lines (up to 16 KiB) it ran over.",
			Buckets: prometheus.ExponentialBuckets(1e-7, 4, 10)}, []string{"prog"}),
	}
	if err := d.load(true); err != nil {
		return err
	}
	ln, err := d.listen()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.mux(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	d.follow(ctx, func() {
		if cfg.Listening != nil {
			cfg.Listening(ln.Addr())
		}
	})
	return nil
}

func (d *daemon) listen() (net.Listener, error) {
	if d.cfg.UnixSocket != "" {
		_ = os.Remove(d.cfg.UnixSocket)
		ln, err := net.Listen("unix", d.cfg.UnixSocket)
		if err != nil {
			return nil, fmt.Errorf("listening on unix socket: %w", err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(d.cfg.Address, d.cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("listening for HTTP: %w", err)
	}
	return ln, nil
}

// load (re)compiles the programs directory.
func (d *daemon) load(first bool) error {
	files, err := filepath.Glob(filepath.Join(d.cfg.Progs, "*.mtail"))
	if st, serr := os.Stat(d.cfg.Progs); serr == nil && !st.IsDir() {
		files = []string{d.cfg.Progs}
	}
	if err != nil {
		return fmt.Errorf("reading programs: %w", err)
	}
	d.mu.Lock()
	old := map[string]*mtail.Program{}
	for _, p := range d.progs {
		old[p.Name] = p
	}
	d.mu.Unlock()
	var progs []*mtail.Program
	var errs []error
	for _, path := range files {
		name := filepath.Base(path)
		if name[0] == '.' {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if p, ok := old[name]; ok && d.sources[name] == string(src) {
			progs = append(progs, p) // unchanged: keep its metrics
			continue
		}
		p, err := mtail.Compile(name, string(src), d.cfg.Options)
		if err != nil {
			errs = append(errs, err)
			if p, ok := old[name]; ok {
				progs = append(progs, p)
			}
			continue
		}
		d.sources[name] = string(src)
		d.loads.WithLabelValues(name).Inc()
		progs = append(progs, p)
	}
	err = errors.Join(errs...)
	if first && err != nil {
		return err
	}
	if err != nil {
		d.cfg.Logger.Error("reloading mtail programs (the old version of a broken one keeps running)", "error", err)
	}
	d.mu.Lock()
	d.progs = progs
	d.mu.Unlock()
	return nil
}

func (d *daemon) programs() []*mtail.Program {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.progs
}

// follow runs the follower, swapping the feeder on reload and running the
// metric GC, until ctx ends. started is called once the files present at
// start are open (at their end).
func (d *daemon) follow(ctx context.Context, started func()) {
	fd := d.newFeeder()
	defer func() { fd.Close() }()
	fl := newFollower(d.cfg.Logs, fd, d.cfg.Logger, func(path string, n int) {
		d.lines.WithLabelValues(path).Add(float64(n))
	})
	fl.rotated = func(path string) { d.rotations.WithLabelValues(path).Inc() }
	fl.scan(true)
	started()
	poll := time.NewTicker(d.cfg.PollInterval)
	defer poll.Stop()
	gc := time.NewTicker(d.cfg.ExpiredMetricsGCInterval)
	defer gc.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, tf := range fl.files {
				tf.f.Close()
			}
			return
		case <-poll.C:
			fl.scan(false)
		case <-d.cfg.Reload:
			_ = d.load(false)
			fd.Close()
			fd = d.newFeeder()
			fl.feeder = fd
		case now := <-gc.C:
			for _, p := range d.programs() {
				p.Expire(now)
			}
		}
	}
}

// newFeeder runs the current programs, timing them per chunk.
func (d *daemon) newFeeder() *mtail.Feeder {
	progs := d.programs()
	obs := make([]prometheus.Observer, len(progs))
	for i, p := range progs {
		obs[i] = d.durations.WithLabelValues(p.Name)
	}
	return mtail.NewObservedFeeder(progs, func(i, lines int, took time.Duration) {
		if lines > 0 {
			obs[i].Observe(took.Seconds() / float64(lines))
		}
	})
}

func (d *daemon) mux() *http.ServeMux {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&mtail.Collector{Programs: d.programs, EmitProgLabel: d.cfg.EmitProgLabel,
		EmitTimestamp: d.cfg.EmitTimestamp}, &selfCollector{d: d}, d.loads, d.lines, d.rotations, d.durations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = mtail.WriteJSON(w, d.programs())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "sluice mtail: /metrics (Prometheus), /json (metric store)")
		for _, p := range d.programs() {
			fmt.Fprintf(w, "%s: %d lines, %d runtime errors\n", p.Name, p.Lines(), p.RuntimeErrors())
		}
	})
	return mux
}

// selfCollector exports mtail's own counters that depend on the programs.
type selfCollector struct{ d *daemon }

var (
	errorsDesc = prometheus.NewDesc("prog_runtime_errors_total", "Lines whose program run ended in a runtime error.", []string{"prog"}, nil)
	linesDesc  = prometheus.NewDesc("lines_total", "Lines processed, summed over programs' first one.", nil, nil)
)

func (s *selfCollector) Describe(ch chan<- *prometheus.Desc) { ch <- errorsDesc; ch <- linesDesc }

func (s *selfCollector) Collect(ch chan<- prometheus.Metric) {
	progs := s.d.programs()
	for _, p := range progs {
		ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(p.RuntimeErrors()), p.Name)
	}
	var n uint64
	if len(progs) > 0 {
		n = progs[0].Lines()
	}
	ch <- prometheus.MustNewConstMetric(linesDesc, prometheus.CounterValue, float64(n))
}
