package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/component"
)

// A command is one `sluice <name>`: what its help says and how it runs.
type command struct {
	name     string
	synopsis string // the arguments shown after `sluice <name>`
	summary  string // its line in `sluice help`
	about    string // the first paragraph of its help
	examples []string
	// env lists the SLUICE_* variables the command reads other than its
	// flags' own (flagEnv), with what each does.
	env []envVar
	// noEnv: the flags are another program's (mtail's), so no SLUICE_<FLAG>
	// variable sets them.
	noEnv bool
	// setup defines the command's flags on fs and returns what runs once
	// they are parsed.
	setup func(fs *flag.FlagSet) func(stdout, stderr io.Writer) int
}

// An envVar is an environment variable a command reads.
type envVar struct {
	name, meaning string
	flag          string // the flag it sets, if it sets one
}

// defaultConfigEnv are the variables the embedded default config reads.
var defaultConfigEnv = []envVar{
	{name: "SLUICE_DATA_DIR", meaning: "data_dir of the embedded default config (used without -c)"},
	{name: "SLUICE_API_LISTEN", meaning: "api.listen of the embedded default config (used without -c)"},
}

var commands = []*command{
	{
		name:     "run",
		synopsis: "[-c FILE] [--once] [--grace DURATION] [--ready-file FILE]",
		summary:  "run the pipeline (the embedded default config without -c)",
		about: "Run the pipeline until SIGTERM or SIGINT, which deliver what is in flight and exit;\n" +
			"SIGHUP reloads the config. With --once, run until the file sources are read to\n" +
			"their end and everything is delivered, then print the metrics rules' series\n" +
			"(Prometheus text format) on stdout and exit.",
		examples: []string{
			"sluice run",
			"sluice run -c /etc/sluice/sluice.yaml",
			"sluice run --once -c batch.yaml",
			"sluice run -c test.yaml --ready-file /run/sluice/ready.json",
		},
		env: append([]envVar{
			{name: "SLUICE_CPUPROFILE", meaning: "write a Go CPU profile (pprof) to this file, for benchmarks"},
		}, defaultConfigEnv...),
		setup: func(fs *flag.FlagSet) func(io.Writer, io.Writer) int {
			cfg := fs.String("c", "", "config `file` (default: the embedded default, see 'sluice defaults')")
			once := fs.Bool("once", false, "read file sources to their end, deliver everything, print the\n"+
				"metrics rules' series on stdout, exit")
			grace := fs.Duration("grace", 30*time.Second, "how long shutdown waits for sinks to deliver")
			ready := fs.String("ready-file", "", "write `file` (JSON: pid, api, metrics and each source's bound addresses, port 0\n"+
				"resolved) once every listener is up; removed at shutdown")
			return func(stdout, stderr io.Writer) int {
				return app.Run(app.RunOptions{ConfigPath: *cfg, Once: *once, Grace: *grace, ReadyFile: *ready,
					Stdout: stdout, Stderr: stderr})
			}
		},
	},
	{
		name:     "validate",
		synopsis: "[-c FILE]",
		summary:  "check a config and print every error; exit 1 on error",
		about:    "Check a config and print every error with file:line:column and, when possible, a hint.\nExit 0 when it is valid, 1 when it is not.",
		examples: []string{
			"sluice validate -c sluice.yaml",
			"sluice defaults | sluice validate -c /dev/stdin",
		},
		env: defaultConfigEnv,
		setup: func(fs *flag.FlagSet) func(io.Writer, io.Writer) int {
			cfg := fs.String("c", "", "config `file` to check, - for stdin (default: the embedded default)")
			return func(stdout, stderr io.Writer) int { return app.Validate(*cfg, stdout, stderr) }
		},
	},
	{
		name:     "defaults",
		summary:  "print the embedded default config",
		about:    "Print the embedded default config, commented: the config 'sluice run' uses without -c.",
		examples: []string{"sluice defaults > sluice.yaml"},
		setup: func(*flag.FlagSet) func(io.Writer, io.Writer) int {
			return func(stdout, stderr io.Writer) int {
				if _, err := stdout.Write(app.DefaultConfig()); err != nil {
					fmt.Fprintln(stderr, "sluice: writing the default config:", err)
					return app.ExitRuntime
				}
				return app.ExitOK
			}
		},
	},
	{
		name:     "components",
		summary:  "list the compiled-in components",
		about:    "List the sources, transforms and sinks compiled into this binary.",
		examples: []string{"sluice components"},
		setup: func(*flag.FlagSet) func(io.Writer, io.Writer) int {
			return func(stdout, _ io.Writer) int {
				for _, s := range component.All() {
					fmt.Fprintf(stdout, "%-24s %s\n", s.ID(), s.Summary)
				}
				return app.ExitOK
			}
		},
	},
	{
		name:     "version",
		summary:  "print version information",
		about:    "Print sluice's version and commit, the Go version it was built with, and the platform.\n'sluice --version' and 'sluice -v' do the same.",
		examples: []string{"sluice version"},
		setup: func(*flag.FlagSet) func(io.Writer, io.Writer) int {
			return func(stdout, _ io.Writer) int {
				fmt.Fprintln(stdout, app.Build{Version: version, Commit: commit}.VersionString())
				return app.ExitOK
			}
		},
	},
	mtailCommand, // mtail.go
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// writeUsage prints the list of commands (`sluice help`).
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "sluice collects, routes, transforms and delivers logs.\n\nUsage:\n  sluice <command> [flags]\n\nCommands:\n")
	rows := [][2]string{}
	for _, c := range commands {
		rows = append(rows, [2]string{c.name, c.summary})
	}
	writeTable(w, append(rows, [2]string{"help [command]", "list the commands, or print a command's help"}))
	fmt.Fprint(w, "\nExamples:\n  sluice run\n  sluice run -c /etc/sluice/sluice.yaml\n"+
		"  sluice defaults | sluice validate -c /dev/stdin\n\n"+
		"Every flag can also be set in the environment as SLUICE_<FLAG> (SLUICE_CONFIG for -c);\n"+
		"a flag on the command line wins. 'sluice help <command>' (or 'sluice <command> --help')\n"+
		"prints a command's flags and the variables it reads.\n")
}

// writeHelp prints c's help: what it does, usage, flags (when it has
// any), environment (when it reads any) and examples.
func writeHelp(w io.Writer, c *command) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fmt.Fprintf(w, "%s\n\nUsage:\n  sluice %s", c.about, c.name)
	if c.synopsis != "" {
		fmt.Fprintf(w, " %s", c.synopsis)
	}
	fmt.Fprintln(w)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		for _, f := range flags {
			writeFlag(w, f)
		}
	}
	if env := append(c.flagEnv(fs), c.env...); len(env) > 0 {
		fmt.Fprint(w, "\nEnvironment:\n")
		var rows [][2]string
		for _, v := range env {
			rows = append(rows, [2]string{v.name, v.meaning})
		}
		writeTable(w, rows)
		if len(flags) > 0 {
			fmt.Fprint(w, "  A flag on the command line wins over its variable.\n")
		}
	}
	fmt.Fprintf(w, "\nExamples:\n  %s\n", strings.Join(c.examples, "\n  "))
}

// writeTable prints rows of two columns, indented by two spaces, the
// second column aligned.
func writeTable(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
}

// writeFlag prints one flag as "  --name VALUE", then its usage indented,
// then its default when that is not the zero value.
func writeFlag(w io.Writer, f *flag.Flag) {
	arg, usage := flag.UnquoteUsage(f)
	dash := "--"
	if len(f.Name) == 1 {
		dash = "-"
	}
	line := "  " + dash + f.Name
	if arg != "" {
		line += " " + strings.ToUpper(arg)
	}
	fmt.Fprintln(w, line)
	usage = strings.ReplaceAll(usage, "\n", "\n      ")
	if f.DefValue != "" && f.DefValue != "false" {
		usage += " (default " + f.DefValue + ")"
	}
	fmt.Fprintf(w, "      %s\n", usage)
}

// flagEnv lists the variables that set fs's flags: SLUICE_<FLAG>, with -
// as _, and SLUICE_CONFIG for -c.
func (c *command) flagEnv(fs *flag.FlagSet) []envVar {
	if c.noEnv {
		return nil
	}
	return flagEnv(fs)
}

func flagEnv(fs *flag.FlagSet) []envVar {
	var env []envVar
	fs.VisitAll(func(f *flag.Flag) {
		name := "SLUICE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if f.Name == "c" {
			name = "SLUICE_CONFIG"
		}
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		env = append(env, envVar{name: name, meaning: "sets " + dash + f.Name, flag: f.Name})
	})
	return env
}
