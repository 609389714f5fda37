// Package app wires sluice together: it loads the config, builds the
// pipeline and the API server, and turns signals into reloads and graceful
// shutdowns. cmd/sluice parses flags and calls the functions here.
package app

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/push"
	"github.com/sluice-log/sluice/internal/metrics/rules"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/mtail/host"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/ui"
)

//go:embed default.yaml
var defaultConfig []byte

// DefaultConfig returns the embedded default configuration text.
func DefaultConfig() []byte { return defaultConfig }

// Exit codes: 0 ok, 1 a bad config or command line, 2 a failure at run time.
const (
	ExitOK      = 0
	ExitConfig  = 1
	ExitRuntime = 2
)

// Build identifies the binary.
type Build struct {
	Version, Commit string
}

// VersionString is what `sluice version` prints.
func (b Build) VersionString() string {
	return fmt.Sprintf("sluice %s (commit %s, %s, %s/%s)", b.Version, b.Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// LoadConfig reads path, or the embedded default when path is "".
func LoadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Parse("<embedded default>", defaultConfig, os.LookupEnv)
	}
	if path == "-" || path == "/dev/stdin" {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("reading config from stdin: %w", err)
		}
		return config.Parse(path, data, os.LookupEnv)
	}
	return config.Load(path)
}

// RunOptions are the settings of `sluice run`.
type RunOptions struct {
	ConfigPath string
	Once       bool
	// Grace bounds how long shutdown waits for sinks to deliver.
	Grace time.Duration
	// ReadyFile, when set, is written (as JSON, see Ready) once the API
	// and every listening source are bound, and removed at shutdown.
	ReadyFile string
	// Stdout receives the rules' series at the end of a --once run.
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs the pipeline until a signal or, with no running sources left
// (stdin at EOF, --once), until everything is delivered. It returns the
// process exit code.
func Run(o RunOptions) int {
	// Catch signals before anything else: a SIGHUP during start-up must not
	// kill the process (the default action); it is handled once running.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	cfg, err := LoadConfig(o.ConfigPath)
	if err != nil {
		fmt.Fprintln(o.Stderr, err)
		return ExitConfig
	}
	log, err := newLogger(o.Stderr, cfg.Log)
	if err != nil {
		fmt.Fprintln(o.Stderr, err)
		return ExitConfig
	}
	if o.ReadyFile != "" {
		// A file left by an earlier run must not pass for this one's.
		if err := os.Remove(o.ReadyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Error("removing old ready file", "error", err)
			return ExitRuntime
		}
	}
	_, userGOGC := os.LookupEnv("GOGC")
	if !userGOGC {
		// Events are short-lived and allocated in bulk: collecting at 2x the
		// live heap instead of 1x halves the GC work of a busy pipeline for
		// a few MB of memory (bench/run.sh: 2.0 s -> 1.3 s per GiB).
		debug.SetGCPercent(200)
	}
	if path := os.Getenv("SLUICE_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			log.Error("starting cpu profile", "error", err)
			return ExitRuntime
		}
		defer stop()
	}
	r := &runner{opts: o, log: log, reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.metrics = telemetry.New(r.reg)
	// The series of metrics rules live across reloads, beside sluice's own.
	r.store = store.New(cfg.Metrics.MaxSeries, nil, log.With("component", "metrics"))
	r.reg.MustRegister(prom.New(r.store))
	r.mounts = api.NewMounts()
	if !userGOGC {
		r.store.OnGrowth(tuneGC())
	}
	// Idle series expire on a timer too, not only at a scrape, so their
	// memory is released when nothing scrapes.
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() { defer close(swept); r.store.RunSweeper(sweepCtx) }()
	defer func() { stopSweep(); <-swept }()
	// The mtail programs' metrics too (metrics.mtail, docs/mtail.md).
	r.mtail = host.NewHost()
	r.reg.MustRegister(r.mtail.Programs(), r.mtail.Self())
	r.push = push.NewManager(r.store, push.NewMetrics(r.reg), log.With("component", "metrics"))
	popts := pipeline.Options{Logger: log, Metrics: r.metrics, Once: o.Once, BufferFactory: bufferFactory(log),
		MetricsStore: r.store, HTTP: r.mounts, MtailHost: r.mtail}
	if o.Once {
		// A batch job whose destination stays down ends, failing, instead
		// of retrying for ever.
		popts.GiveUpAfter = o.Grace
	}
	r.pl = pipeline.New(popts)
	for _, w := range cfg.Warnings {
		log.Warn(w.Error())
	}
	// Every listener is opened before anything runs, and before sluice
	// says it started: a port taken or a directory it cannot write ends
	// start-up here, with exit code 2.
	if err := r.startAPI(cfg); err != nil {
		startupFailed(o.Stderr, err)
		return ExitRuntime
	}
	if err := r.startMetrics(cfg); err != nil {
		startupFailed(o.Stderr, err)
		r.stopAPI()
		return ExitRuntime
	}
	if err := r.push.Apply(cfg.Metrics.Push); err != nil {
		startupFailed(o.Stderr, err)
		r.push.Stop(0)
		r.stopAPI()
		r.stopMetrics()
		return ExitRuntime
	}
	if err := r.pl.Apply(cfg); err != nil {
		startupFailed(o.Stderr, err)
		r.push.Stop(0)
		r.stopAPI()
		r.stopMetrics()
		return ExitRuntime
	}
	r.cfg = cfg
	rules.Retain(r.store, cfg)
	log.Info("sluice started", "config", cfg.File, "components", len(cfg.Components))
	if o.ReadyFile != "" {
		r.startReady(cfg)
	}
	return r.loop(sig)
}

type runner struct {
	opts    RunOptions
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *telemetry.Registry
	store   *store.Store
	mtail   *host.Host
	push    *push.Manager
	pl      *pipeline.Pipeline
	cfg     *config.Config
	api     *api.Server
	mounts  *api.Mounts  // component routes (the live sink's), across api restarts
	mserv   *prom.Server // metrics.listen; nil when not set

	stopReady func() // cancels the ready-file writer and waits for it
}

// startReady writes the ready file in the background, once every listening
// source of cfg is bound. A source that cannot bind logs its error, and the
// file is never written.
func (r *runner) startReady(cfg *config.Config) {
	var apiAddr string
	if r.api != nil {
		apiAddr = r.api.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := writeReady(ctx, r.opts.ReadyFile, cfg, r.metrics, apiAddr, r.metricsAddr()); err != nil {
			if ctx.Err() == nil {
				r.log.Error("writing ready file", "error", err)
			}
			return
		}
		r.log.Info("ready", "ready_file", r.opts.ReadyFile)
	}()
	r.stopReady = func() { cancel(); <-done }
}

func (r *runner) loop(sig <-chan os.Signal) int {
	sourcesDone := make(chan struct{})
	if r.pl.Sources() > 0 {
		go func() { r.pl.Wait(); close(sourcesDone) }()
	}
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				r.reload()
				continue
			}
			r.log.Info("shutting down: draining in-flight events", "signal", s.String())
		case <-sourcesDone:
			r.log.Info("all sources finished; delivering what is left")
		}
		r.shutdown()
		if r.opts.Once && r.opts.Stdout != nil {
			if err := printSeries(r.opts.Stdout, r.store, r.mtail.Programs()); err != nil {
				fmt.Fprintf(r.opts.Stderr, "sluice: %v\n", err)
				return ExitRuntime
			}
		}
		return r.outcome()
	}
}

// outcome is the exit code of a run that ended: with --once, a component
// that ended failed, events a destination rejected or events left
// undelivered fail the job (exit 2), said in one line each.
func (r *runner) outcome() int {
	if !r.opts.Once {
		return ExitOK
	}
	code := ExitOK
	for _, h := range append(r.pl.Failed(), failed(r.push.Health())...) {
		fmt.Fprintf(r.opts.Stderr, "sluice: %s.%s failed: %s\n", component.Kind(h.Kind).Plural(), h.ID, h.Error)
		code = ExitRuntime
	}
	if n := r.pl.Rejected(); n > 0 {
		fmt.Fprintf(r.opts.Stderr, "sluice: %d events rejected by their destination (see the log above)\n", n)
		code = ExitRuntime
	}
	if n := r.pl.Undelivered(); n > 0 {
		fmt.Fprintf(r.opts.Stderr, "sluice: %d events left undelivered (a sink could not deliver them in --grace %s; see the log above)\n", n, r.opts.Grace)
		code = ExitRuntime
	}
	return code
}

// startupFailed prints why start-up failed, one line per problem, with a
// hint where the cause is a common one.
func startupFailed(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "sluice: cannot start: %s%s\n", line, startHint(line))
	}
}

func startHint(msg string) string {
	switch {
	case strings.Contains(msg, "address already in use"):
		return " (hint: another program listens there; stop it or change the address)"
	case strings.Contains(msg, "permission denied") && strings.Contains(msg, "listen"):
		return " (hint: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a higher port)"
	case strings.Contains(msg, "permission denied"):
		return " (hint: sluice's user cannot write there; set data_dir (or SLUICE_DATA_DIR) to a directory it owns)"
	}
	return ""
}

func (r *runner) shutdown() {
	if r.stopReady != nil {
		r.stopReady()
		if err := os.Remove(r.opts.ReadyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.log.Warn("removing ready file", "error", err)
		}
	}
	r.pl.Stop(r.opts.Grace)
	r.push.Stop(r.opts.Grace) // after the pipeline drained: the final values
	r.stopAPI()
	r.stopMetrics()
	r.log.Info("sluice stopped")
}

// stopAPI shuts the API down, waiting a little for requests in flight.
func (r *runner) stopAPI() {
	if r.api == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.api.Shutdown(ctx); err != nil {
		r.log.Warn("stopping api", "error", err)
	}
	r.api = nil
}

// reload applies a changed config; on any error the old one keeps running.
func (r *runner) reload() {
	r.log.Info("reloading config", "config", r.opts.ConfigPath)
	r.pl.Reopen()
	cfg, err := LoadConfig(r.opts.ConfigPath)
	if err != nil {
		var list config.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				r.log.Error("config error; keeping the running config", "error", e.Error())
			}
		} else {
			r.log.Error("reloading config; keeping the running config", "error", err)
		}
		return
	}
	if cfg.DataDir != r.cfg.DataDir || cfg.Log != r.cfg.Log {
		r.log.Warn("data_dir and log settings change only on restart")
	}
	for _, w := range cfg.Warnings {
		r.log.Warn(w.Error())
	}
	if err := r.pl.Apply(cfg); err != nil {
		// Either nothing changed (a component could not be built), or the
		// rest applied and the sources that could not start kept their
		// previous config or were left out: the error says which.
		for _, line := range strings.Split(err.Error(), "\n") {
			r.log.Error("reload", "error", line)
		}
		var partly *pipeline.StartError
		if !errors.As(err, &partly) {
			return
		}
	}
	if !sameAPI(r.cfg.API, cfg.API) {
		r.stopAPI() // first: the new listener may take the same address
		if err := r.startAPI(cfg); err != nil {
			// Keep the API up on its previous config, and keep that config
			// as the running one, so the next reload tries again.
			r.log.Error("reload: the new api config cannot start; keeping the previous one", "error", err)
			cfg.API = r.cfg.API
			if err := r.startAPI(cfg); err != nil {
				r.log.Error("restarting the api on its previous config", "error", err)
			}
		}
	}
	r.reloadMetrics(cfg)
	r.reloadMtail(cfg)
	r.cfg = cfg
	rules.Retain(r.store, cfg)
	if err := r.push.Apply(cfg.Metrics.Push); err != nil {
		r.log.Error("reload: metrics push", "error", err)
	}
	r.log.Info("config reloaded", "components", len(cfg.Components))
}

func (r *runner) startAPI(cfg *config.Config) error {
	if cfg.API == nil {
		return nil
	}
	s := api.New(*cfg.API, r.reg, r.health, r.log.With("component", "api"))
	s.Handle(api.MountsPrefix, r.mounts)
	s.Handle("/", ui.Handler())
	if err := s.Start(); err != nil {
		return err
	}
	r.api = s
	return nil
}

// health is the API's view of the pipeline: failing while any component
// is, naming each with its error.
func (r *runner) health() (any, error) {
	report := append(r.pl.Health(), r.push.Health()...)
	var errs []error
	for _, h := range report {
		if h.State == pipeline.StateFailed {
			errs = append(errs, fmt.Errorf("%s.%s failed: %s", component.Kind(h.Kind).Plural(), h.ID, h.Error))
		}
	}
	return report, errors.Join(errs...)
}

// failed returns the entries of hs in StateFailed.
func failed(hs []pipeline.Health) []pipeline.Health {
	var out []pipeline.Health
	for _, h := range hs {
		if h.State == pipeline.StateFailed {
			out = append(out, h)
		}
	}
	return out
}

func sameAPI(a, b *config.API) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(*a, *b)
}

func newLogger(w io.Writer, l config.Log) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, fmt.Errorf("parsing log level: %w", err)
	}
	return logging.New(w, level, l.Format == "json", 10*time.Second), nil
}

// startCPUProfile writes a pprof CPU profile to path until stop is called
// (SLUICE_CPUPROFILE, for benchmarks).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
