// Command sluice collects, routes, transforms and delivers logs.
// This package only parses the command line (the commands and their help
// are in commands.go); internal/app does the work.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	_ "time/tzdata" // named time zones (syslog's timezone) without the OS database

	_ "github.com/sluice-log/sluice/internal/all"
	"github.com/sluice-log/sluice/internal/app"
)

// Set by the linker: -ldflags "-X main.version=... -X main.commit=...".
var version, commit = "dev", "unknown"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs the command line args and returns the exit code. Help that
// was asked for goes to stdout (exit 0); usage errors go to stderr (exit 1).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return app.ExitConfig
	}
	name, args := args[0], args[1:]
	switch name {
	case "--version", "-v":
		name = "version"
	case "help", "--help", "-h":
		return help(args, stdout, stderr)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n", name)
		writeUsage(stderr)
		return app.ExitConfig
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// flag calls Usage on -h and on a bad flag; parse prints what each needs.
	fs.Usage = func() {}
	act := c.setup(fs)
	if code, ok := parse(c, fs, args, stdout); !ok {
		return code
	}
	return act(stdout, stderr)
}

// help is `sluice help [command]`.
func help(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		writeUsage(stdout)
		return app.ExitOK
	case len(args) > 1:
		fmt.Fprintf(stderr, "sluice help: one command at a time, not %q\n", strings.Join(args, " "))
		return app.ExitConfig
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "sluice help: unknown command %q\n\n", args[0])
		writeUsage(stderr)
		return app.ExitConfig
	}
	writeHelp(stdout, c)
	return app.ExitOK
}

// parse applies SLUICE_<FLAG> environment variables, then the arguments,
// which win. -c reads SLUICE_CONFIG. When it returns false, the command
// ends with the returned exit code (0 after --help, which prints the
// command's help on stdout).
func parse(c *command, fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	for _, v := range c.flagEnv(fs) {
		if s, ok := os.LookupEnv(v.name); ok {
			if err := fs.Set(v.flag, s); err != nil {
				fmt.Fprintf(fs.Output(), "sluice %s: invalid %s=%q: %v\n", c.name, v.name, s, err)
				return app.ExitConfig, false
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeHelp(stdout, c)
			return app.ExitOK, false
		}
		// flag has printed the error.
		fmt.Fprintf(fs.Output(), "Run 'sluice help %s' for its usage.\n", c.name)
		return app.ExitConfig, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "sluice %s: unexpected arguments: %s\nRun 'sluice help %s' for its usage.\n",
			c.name, strings.Join(fs.Args(), " "), c.name)
		return app.ExitConfig, false
	}
	return 0, true
}
