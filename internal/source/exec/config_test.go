package exec

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		yaml    string
		wantErr string
		check   func(*Config) bool
	}{
		{"defaults", "command: [journalctl, -f]\n", "", func(c *Config) bool {
			return c.Restart == RestartAlways && c.RestartBackoff.D() == time.Second && c.MaxBackoff.D() == 30*time.Second &&
				c.StopTimeout.D() == 5*time.Second && c.Stderr == StderrLog && c.stream() == "journalctl" && c.BatchLines == 1000
		}},
		{"everything", `command: [/usr/bin/tool, --follow]
env: {TOKEN: s3cret}
working_dir: /tmp
restart: on_failure
restart_backoff: 2s
max_backoff: 1m
stop_timeout: 1s
stderr: emit
stream: tool-out
batch_lines: 10
long_lines: truncate
`, "", func(c *Config) bool {
			return c.Env["TOKEN"].Reveal() == "s3cret" && c.WorkingDir == "/tmp" && c.Restart == RestartOnFailure &&
				c.MaxBackoff.D() == time.Minute && c.Stderr == StderrEmit && c.stream() == "tool-out" &&
				c.BatchLines == 10 && c.LongLines == "truncate"
		}},
		{"stream from path", "command: [/usr/local/bin/my-app]\n", "", func(c *Config) bool { return c.stream() == "my-app" }},
		{"missing command", "{}", "command is required", nil},
		{"empty program", "command: ['']\n", "command is required", nil},
		{"bad restart", "command: [x]\nrestart: sometimes\n", "restart must be", nil},
		{"bad stderr", "command: [x]\nstderr: file\n", "stderr must be", nil},
		{"backoff over max", "command: [x]\nrestart_backoff: 1m\nmax_backoff: 1s\n", "restart_backoff", nil},
		{"zero stop_timeout", "command: [x]\nstop_timeout: 0s\n", "stop_timeout", nil},
		{"bad env name", "command: [x]\nenv: {'A=B': c}\n", "env", nil},
		{"line options checked", "command: [x]\nmax_line_bytes: 0\n", "max_line_bytes", nil},
		{"unknown key", "command: [x]\nshell: true\n", "shell", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			err := yaml.Load([]byte(tc.yaml), c, yaml.WithKnownFields())
			if err == nil {
				err = c.Validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := component.Lookup(component.KindSource, "exec")
	if !ok {
		t.Fatal("exec source not registered")
	}
	c := spec.NewConfig().(*Config)
	c.Command = []string{"true"}
	if _, err := spec.Build(testutil.Validated(t, c), testutil.Deps(t, "x")); err != nil {
		t.Errorf("Build: %v", err)
	}
}
