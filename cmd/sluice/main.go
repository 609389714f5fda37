// Command sluice collects, routes, transforms and delivers logs.
// This file only parses the command line; internal/app does the work.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // named time zones (syslog's timezone) without the OS database

	_ "github.com/sluice-log/sluice/internal/all"
	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/component"
)

// Set by the linker: -ldflags "-X main.version=... -X main.commit=...".
var version, commit = "dev", "unknown"

const usage = `sluice collects, routes, transforms and delivers logs.

Usage:
  sluice run      [-c FILE] [--once] [--ready-file FILE]
                                       run the pipeline (embedded default without -c)
  sluice validate -c FILE              check a config; exit 1 on error
  sluice defaults                      print the embedded default config
  sluice components                    list the compiled-in components
  sluice version                       print version information

Examples:
  sluice run
  sluice run -c /etc/sluice/sluice.yaml
  sluice run --once -c batch.yaml
  sluice defaults | sluice validate -c /dev/stdin

Flags can also be set from the environment: SLUICE_CONFIG, SLUICE_ONCE,
SLUICE_READY_FILE, ...
Run 'sluice <command> --help' for the flags of a command.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return app.ExitConfig
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		fs := newFlags("run", "Run the pipeline until SIGTERM/SIGINT; SIGHUP reloads the config.",
			"sluice run -c /etc/sluice/sluice.yaml\n  sluice run --once -c batch.yaml\n  sluice run -c test.yaml --ready-file /run/sluice/ready.json", stderr)
		cfg := fs.String("c", "", "config `file` (default: the embedded default)")
		once := fs.Bool("once", false, "read file sources to their end, deliver everything, print metrics, exit")
		grace := fs.Duration("grace", 30*time.Second, "how long shutdown waits for sinks to deliver")
		ready := fs.String("ready-file", "", "write `file` (JSON: pid, api and each source's bound addresses, port 0 resolved)\nonce every listener is up; removed at shutdown")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		return app.Run(app.RunOptions{ConfigPath: *cfg, Once: *once, Grace: *grace, ReadyFile: *ready, Stderr: stderr})
	case "validate":
		fs := newFlags("validate", "Check a config file and print every error with file:line:column.",
			"sluice validate -c sluice.yaml\n  sluice defaults | sluice validate -c /dev/stdin", stderr)
		cfg := fs.String("c", "", "config `file` to check (default: the embedded default)")
		if code, ok := parse(fs, args); !ok {
			return code
		}
		return app.Validate(*cfg, stdout, stderr)
	case "defaults":
		if code, ok := parse(newFlags("defaults", "Print the embedded default config.", "sluice defaults > sluice.yaml", stderr), args); !ok {
			return code
		}
		if _, err := stdout.Write(app.DefaultConfig()); err != nil {
			fmt.Fprintln(stderr, "sluice: writing the default config:", err)
			return app.ExitRuntime
		}
		return app.ExitOK
	case "components":
		if code, ok := parse(newFlags("components", "List the compiled-in sources, transforms and sinks.", "sluice components", stderr), args); !ok {
			return code
		}
		for _, s := range component.All() {
			fmt.Fprintf(stdout, "%-24s %s\n", s.ID(), s.Summary)
		}
		return app.ExitOK
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, app.Build{Version: version, Commit: commit}.VersionString())
		return app.ExitOK
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", cmd, usage)
	return app.ExitConfig
}

func newFlags(name, what, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nUsage: sluice %s [flags]\n\nExamples:\n  %s\n\nFlags:\n", what, name, examples)
		fs.PrintDefaults()
	}
	return fs
}

// parse applies SLUICE_<FLAG> environment variables, then the arguments,
// which win. -c reads SLUICE_CONFIG. When it returns false, the command
// ends with the returned exit code (0 after --help).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		env := "SLUICE_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
		if n == "c" {
			env = "SLUICE_CONFIG"
		}
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(n, v); err != nil {
				fmt.Fprintf(fs.Output(), "invalid %s=%q: %v\n", env, v, err)
				return app.ExitConfig, false
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return app.ExitOK, false
		}
		return app.ExitConfig, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return app.ExitConfig, false
	}
	return 0, true
}
