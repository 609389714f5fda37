package main

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// cli runs the command line in-process and returns its exit code and
// output.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func helpOf(t *testing.T, name string) string {
	t.Helper()
	code, out, errOut := cli("help", name)
	if code != 0 || errOut != "" {
		t.Fatalf("sluice help %s: exit %d, stderr %q", name, code, errOut)
	}
	return out
}

// TestHelpAsked: every way of asking for a command's help prints the same
// help on stdout, nothing on stderr, and exits 0.
func TestHelpAsked(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		want := helpOf(t, c.name)
		if !strings.Contains(want, "sluice "+c.name) || !strings.Contains(want, "Examples:") {
			t.Errorf("sluice help %s: no usage or examples:\n%s", c.name, want)
		}
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {c.name, "-help"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := cli(args...)
				testutil.Diff(t, 0, code)
				testutil.Diff(t, want, out)
				testutil.Diff(t, "", errOut)
			})
		}
	}
}

// TestHelpListsCommands: `sluice help` and `sluice --help` list every
// command on stdout and exit 0; with no command at all the same list goes
// to stderr with exit 1.
func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		toStderr bool
	}{
		{"help", []string{"help"}, 0, false},
		{"--help", []string{"--help"}, 0, false},
		{"-h", []string{"-h"}, 0, false},
		{"no command", nil, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := cli(tc.args...)
			testutil.Diff(t, tc.code, code)
			if tc.toStderr {
				out, errOut = errOut, out
			}
			testutil.Diff(t, "", errOut)
			for _, c := range commands {
				if !regexp.MustCompile(`(?m)^  ` + c.name + ` +` + regexp.QuoteMeta(c.summary) + `$`).MatchString(out) {
					t.Errorf("%s is not listed with its summary:\n%s", c.name, out)
				}
			}
		})
	}
}

// TestUsageErrors: usage mistakes exit 1 with the reason on stderr and
// nothing on stdout.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"help for an unknown command", []string{"help", "frobnicate"}, `sluice help: unknown command "frobnicate"`},
		{"help for two commands", []string{"help", "run", "validate"}, "one command at a time"},
		{"unknown flag", []string{"run", "--frobnicate"}, "flag provided but not defined: -frobnicate\nRun 'sluice help run' for its usage."},
		{"flag on a command without flags", []string{"version", "--short"}, "flag provided but not defined: -short"},
		{"argument", []string{"defaults", "extra"}, "sluice defaults: unexpected arguments: extra"},
		{"bad flag value", []string{"run", "--grace", "soon"}, `invalid value "soon" for flag -grace`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := cli(tc.args...)
			testutil.Diff(t, 1, code)
			testutil.Diff(t, "", out)
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tc.want)
			}
		})
	}
}

// TestFlagsSection: a command with flags lists each under "Flags:"; a
// command without flags has no "Flags:" section at all.
func TestFlagsSection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd   string
		flags []string
	}{
		{"run", []string{"-c FILE", "--once", "--grace DURATION", "--ready-file FILE"}},
		{"validate", []string{"-c FILE"}},
		{"defaults", nil},
		{"components", nil},
		{"version", nil},
		{"tail", []string{"--server URL", "--stream ID", "--grep REGEX", "--json", "--since DURATION", "--token TOKEN", "--tls-ca FILE"}},
		{"send", []string{"--server URL", "--stream ID", "--token TOKEN", "--tls-ca FILE", "--mute", "--timeout DURATION", "--max-line SIZE"}},
		{"mtail", []string{"--progs DIR", "--logs GLOB", "--one_shot", "--one_shot_format FORMAT", "-v INT"}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			help := helpOf(t, tc.cmd)
			if got := strings.Contains(help, "Flags:"); got != (len(tc.flags) > 0) {
				t.Errorf("Flags: section present = %v, want %v:\n%s", got, len(tc.flags) > 0, help)
			}
			for _, f := range tc.flags {
				if !strings.Contains(help, "\n  "+f+"\n") {
					t.Errorf("flag %q not listed:\n%s", f, help)
				}
			}
		})
	}
	if len(commands) != 8 {
		t.Errorf("%d commands, the table above has 8: add the new one", len(commands))
	}
}

// TestEnvironmentSetsFlags: SLUICE_<FLAG> sets a flag, the command line
// wins over it, and a bad value is a usage error naming the variable.
func TestEnvironmentSetsFlags(t *testing.T) {
	dir := t.TempDir()
	good, other := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "other.yaml")
	for _, f := range []string{good, other} {
		err := os.WriteFile(f, []byte("sources:\n  a: { type: stdin }\nsinks:\n  b: { type: blackhole, inputs: [ a ] }\n"), 0o600)
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SLUICE_CONFIG", good)
	code, out, errOut := cli("validate")
	testutil.Diff(t, 0, code)
	testutil.Diff(t, good+": ok (2 components)\n", out)
	testutil.Diff(t, "", errOut)
	code, out, _ = cli("validate", "-c", other)
	testutil.Diff(t, 0, code)
	testutil.Diff(t, other+": ok (2 components)\n", out)

	t.Setenv("SLUICE_GRACE", "soon")
	code, out, errOut = cli("run")
	testutil.Diff(t, 1, code)
	testutil.Diff(t, "", out)
	if want := `sluice run: invalid SLUICE_GRACE="soon"`; !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr %q, want it to start with %q", errOut, want)
	}
}

// TestHelpPromisesNothingMissing: run's help says --once prints the
// rules' series, and every synopsis names only real flags.
func TestHelpPromisesNothingMissing(t *testing.T) {
	t.Parallel()
	if help := helpOf(t, "run"); !strings.Contains(help, "metrics rules' series") {
		t.Errorf("run's help does not say that --once prints the rules' series:\n%s", help)
	}
	flagName := regexp.MustCompile(`\[--?([a-z-]+)`)
	for _, c := range commands {
		help := helpOf(t, c.name)
		for _, m := range flagName.FindAllStringSubmatch(c.synopsis, -1) {
			if !regexp.MustCompile(`(?m)^  --?` + m[1] + `\b`).MatchString(help) {
				t.Errorf("sluice %s: synopsis names -%s, which is not a flag", c.name, m[1])
			}
		}
	}
}

// TestEnvironmentListed: every SLUICE_* variable the code or the embedded
// default config reads is listed in the help of a command, and documented
// in docs/configuration.md; each command lists the variables of its own
// flags, and run and validate (which load the embedded default without
// -c) list the default config's variables.
func TestEnvironmentListed(t *testing.T) {
	t.Parallel()
	read := sluiceEnvRead(t)
	for _, v := range []string{"SLUICE_CONFIG", "SLUICE_CPUPROFILE", "SLUICE_DATA_DIR"} {
		if !slices.Contains(read, v) {
			t.Fatalf("found %v in the code, not %s: is the scan broken?", read, v)
		}
	}
	defaultYAML, err := os.ReadFile("../../internal/app/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	envVar := regexp.MustCompile(`SLUICE_[A-Z0-9_]+`)
	inDefault := envVar.FindAllString(string(defaultYAML), -1)
	docs, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range commands {
		want := inEnvSection(helpOf(t, c.name))
		for _, v := range want {
			listed[v] = true
		}
		if c.noEnv {
			continue // mtail's flags: no SLUICE_<FLAG> variables
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		fs.VisitAll(func(f *flag.Flag) {
			v := map[string]string{"c": "SLUICE_CONFIG", "once": "SLUICE_ONCE", "grace": "SLUICE_GRACE",
				"ready-file": "SLUICE_READY_FILE", "server": "SLUICE_SERVER", "stream": "SLUICE_STREAM", "grep": "SLUICE_GREP",
				"icase": "SLUICE_ICASE", "expr": "SLUICE_EXPR", "json": "SLUICE_JSON", "since": "SLUICE_SINCE", "last": "SLUICE_LAST",
				"token": "SLUICE_TOKEN", "tls-ca": "SLUICE_TLS_CA", "mute": "SLUICE_MUTE", "timeout": "SLUICE_TIMEOUT",
				"max-line": "SLUICE_MAX_LINE"}[f.Name]
			if v == "" {
				t.Errorf("sluice %s: new flag -%s; add its variable to this test", c.name, f.Name)
			}
			read = append(read, v)
			if !slices.Contains(want, v) {
				t.Errorf("sluice %s has -%s but its help does not list %s", c.name, f.Name, v)
			}
		})
		if c.name == "run" || c.name == "validate" {
			for _, v := range inDefault {
				if !slices.Contains(want, v) {
					t.Errorf("sluice %s loads the default config but does not list %s", c.name, v)
				}
			}
		}
	}
	slices.Sort(read)
	for _, v := range slices.Compact(read) {
		if !listed[v] {
			t.Errorf("%s is read but no command's help lists it", v)
		}
		if !strings.Contains(string(docs), "`"+v+"`") {
			t.Errorf("%s is read but docs/configuration.md does not name it", v)
		}
	}
}

// inEnvSection returns the variables listed under a help's
// "Environment:".
func inEnvSection(help string) []string {
	_, sec, ok := strings.Cut(help, "\nEnvironment:\n")
	if !ok {
		return nil
	}
	sec, _, _ = strings.Cut(sec, "\n\n")
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  (SLUICE_[A-Z0-9_]+) `).FindAllStringSubmatch(sec, -1) {
		names = append(names, m[1])
	}
	return names
}

// sluiceEnvRead returns every SLUICE_* name in the non-test Go code under
// cmd/ and internal/ and in the embedded default config.
func sluiceEnvRead(t *testing.T) []string {
	envVar := regexp.MustCompile(`SLUICE_[A-Z0-9_]*[A-Z0-9]`)
	var names []string
	for _, root := range []string{"../../cmd", "../../internal"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "/testutil/") || strings.HasSuffix(filepath.Dir(path), "test") ||
				!(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".yaml")) {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			names = append(names, envVar.FindAllString(string(data), -1)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestDocsNameRealCommands: README.md, docs/ and the embedded default
// config name only commands this binary has (`sluice send` is not one
// yet), in backquotes or on a command line in a code block.
func TestDocsNameRealCommands(t *testing.T) {
	t.Parallel()
	files := []string{"../../README.md", "../../internal/app/default.yaml"}
	err := filepath.WalkDir("../../docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile("`sluice ([a-z][a-z-]*)")
	fence := regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")
	commandLine := regexp.MustCompile(`(?m)(?:^\s*|\|\s*)sluice ([a-z][a-z-]*)`)
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := quoted.FindAllStringSubmatch(string(data), -1)
		for _, block := range fence.FindAllStringSubmatch(string(data), -1) {
			found = append(found, commandLine.FindAllStringSubmatch(block[1], -1)...)
		}
		for _, m := range found {
			n++
			if m[1] != "help" && lookup(m[1]) == nil {
				t.Errorf("%s names `sluice %s`, which is not a command", f, m[1])
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d command names found: is the scan broken?", n)
	}
}
