package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/mtail"
	"github.com/sluice-log/sluice/internal/mtail/daemon"
)

// listFlag is a flag that may be repeated (mtail's --logs).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// mtailFlags are mtail's own flags, same names and defaults, so a unit
// that ran mtail runs `sluice mtail` with the same arguments.
type mtailFlags struct {
	progs, port, address, unixSocket, format, timezone string
	logs                                               listFlag
	oneShot, emitProg, currentYear, emitTimestamp      bool
	compileOnly, logErrors                             bool
	poll, gc                                           time.Duration
}

func (m *mtailFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&m.progs, "progs", "", "`dir`ectory of mtail programs (*.mtail), or one program file")
	fs.Var(&m.logs, "logs", "log files to read, comma-separated `glob`s; may be repeated")
	fs.StringVar(&m.port, "port", "3903", "HTTP `port` for /metrics and /json")
	fs.StringVar(&m.address, "address", "", "`host` or IP the HTTP listener binds (default: all)")
	fs.StringVar(&m.unixSocket, "unix_socket", "", "serve HTTP on this unix socket `path` instead of a port")
	fs.BoolVar(&m.oneShot, "one_shot", false, "read the logs from start to end, print the metrics, exit")
	fs.StringVar(&m.format, "one_shot_format", "json", "`format` of --one_shot: json or prometheus")
	fs.BoolVar(&m.emitProg, "emit_prog_label", true, "add the prog label (the program's file name) to exported metrics")
	fs.BoolVar(&m.currentYear, "syslog_use_current_year", true, "give yearless strptime results the current year")
	fs.StringVar(&m.timezone, "override_timezone", "", "time `zone` strptime assumes (default UTC)")
	fs.BoolVar(&m.emitTimestamp, "emit_metric_timestamp", false, "export each value's update time as its timestamp")
	fs.BoolVar(&m.compileOnly, "compile_only", false, "compile the programs, report errors, exit")
	fs.BoolVar(&m.logErrors, "vm_logs_runtime_errors", true, "log runtime errors (at most one per program per second)")
	fs.DurationVar(&m.poll, "poll_interval", 250*time.Millisecond, "how often log files are read and --logs globs re-expanded")
	fs.DurationVar(&m.gc, "expired_metrics_gc_interval", time.Hour, "how often `del ... after` and `limit` are applied")
	// glog's and mtail's other flags, accepted and ignored.
	for _, name := range []string{"logtostderr", "alsologtostderr", "disable_fsnotify"} {
		fs.Bool(name, false, "accepted for mtail compatibility; ignored")
	}
	for _, name := range []string{"log_dir", "stderrthreshold", "vmodule", "log_backtrace_at"} {
		fs.String(name, "", "accepted for mtail compatibility; ignored")
	}
	fs.Int("v", 0, "glog verbosity; accepted for mtail compatibility, ignored")
	fs.Duration("poll_log_interval", 250*time.Millisecond, "accepted for mtail compatibility; --poll_interval does both")
	fs.Int("max_regexp_length", 1024, "accepted for mtail compatibility; the limit is 1024")
}

var mtailCommand = &command{
	name:     "mtail",
	synopsis: "--progs DIR [--logs GLOB[,GLOB]]... [mtail flags]",
	summary:  "run unchanged mtail programs (a drop-in for the mtail binary)",
	about: "Run mtail programs over log files with mtail's flags: follow the --logs files and serve\n" +
		"/metrics and /json on --address:--port (3903), or with --one_shot read them once and print the\n" +
		"metrics. SIGHUP reloads changed programs. See docs/mtail.md for the migration guide.",
	examples: []string{
		"sluice mtail --progs /etc/mtail --logs /var/log/syslog,/var/log/nginx/*.log",
		"sluice mtail --progs progs/ --logs access.log --one_shot --one_shot_format=prometheus",
		"sluice mtail --progs progs/ --compile_only",
	},
	noEnv: true,
	setup: func(fs *flag.FlagSet) func(io.Writer, io.Writer) int {
		m := &mtailFlags{}
		m.define(fs)
		return m.run
	},
}

func (m *mtailFlags) run(stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if m.progs == "" {
		fmt.Fprintln(stderr, "sluice mtail: --progs is required")
		return app.ExitConfig
	}
	opts := mtail.Options{SyslogUseCurrentYear: m.currentYear, Logger: logger, LogRuntimeErrors: m.logErrors}
	if m.timezone != "" {
		loc, err := time.LoadLocation(m.timezone)
		if err != nil {
			fmt.Fprintf(stderr, "sluice mtail: --override_timezone: %v\n", err)
			return app.ExitConfig
		}
		opts.Location = loc
	}
	if m.compileOnly || m.oneShot {
		progs, err := mtail.LoadDir(m.progs, opts)
		if err != nil {
			fmt.Fprintf(stderr, "sluice mtail: compile failed:\n%v\n", err)
			return app.ExitConfig
		}
		if m.compileOnly {
			return app.ExitOK
		}
		return m.oneShotRun(progs, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{})
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	err := daemon.Run(ctx, daemon.Config{Progs: m.progs, Logs: m.logs, Address: m.address, Port: m.port,
		UnixSocket: m.unixSocket, Options: opts, EmitProgLabel: m.emitProg, EmitTimestamp: m.emitTimestamp,
		PollInterval: m.poll, ExpiredMetricsGCInterval: m.gc, Logger: logger, Reload: reload})
	if err != nil {
		fmt.Fprintf(stderr, "sluice mtail: %v\n", err)
		return app.ExitConfig
	}
	return app.ExitOK
}

func (m *mtailFlags) oneShotRun(progs []*mtail.Program, stdout, stderr io.Writer) int {
	logs, err := mtail.ExpandLogs(m.logs)
	if err == nil {
		err = mtail.OneShot(progs, logs)
	}
	if err == nil {
		err = mtail.WriteFormat(stdout, m.format, progs, m.emitProg, m.emitTimestamp)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice mtail: %v\n", err)
		return app.ExitConfig
	}
	return app.ExitOK
}
