package syslog

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// runLogger runs util-linux logger with args, feeding it stdin.
func runLogger(t *testing.T, stdin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "logger", append([]string{"--socket-errors=on"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRealLogger sends with the real util-linux logger over every transport
// it speaks and checks the events.
func TestRealLogger(t *testing.T) {
	testutil.SkipIfShort(t)
	if _, err := exec.LookPath("logger"); err != nil {
		testutil.RequireCI(t, "util-linux logger is not installed")
	}
	hostname, _ := os.Hostname()
	type want struct {
		msgs          []string
		host, format  string
		msgid, sdText string
	}
	for _, tc := range []struct {
		name  string
		mode  string
		stdin string
		args  func(addr string) []string
		want  want
	}{
		{"udp rfc5424 with sd", ModeUDP, "", func(a string) []string {
			return append(hostPort(a), "-d", "--rfc5424", "-t", "TAG", "--msgid", "ID", "--sd-id", "x@32473", "--sd-param", `k="v\]q"`, "hello 5424")
		}, want{[]string{"hello 5424"}, hostname, "rfc5424", "ID", `{"timeQuality":{"tzKnown":"1","isSynced":"0"},"x@32473":{"k":"v]q"}}`}},
		{"udp rfc3164", ModeUDP, "", func(a string) []string {
			return append(hostPort(a), "-d", "--rfc3164", "-t", "TAG", "hello 3164")
		}, want{[]string{"hello 3164"}, hostname, "rfc3164", "", ""}},
		{"tcp octet counted lines", ModeTCP, "line one\nline two\n", func(a string) []string {
			return append(hostPort(a), "-T", "--octet-count", "--rfc5424=notq", "-t", "TAG")
		}, want{[]string{"line one", "line two"}, hostname, "rfc5424", "", ""}},
		{"tcp newline rfc3164", ModeTCP, "", func(a string) []string {
			return append(hostPort(a), "-T", "--rfc3164", "-t", "TAG", "hello lf")
		}, want{[]string{"hello lf"}, hostname, "rfc3164", "", ""}},
		{"unix datagram local format", ModeUnixDgram, "", func(a string) []string {
			return []string{"-u", a, "-d", "-t", "TAG", "hello dgram"}
		}, want{[]string{"hello dgram"}, hostname, "rfc3164", "", ""}},
		{"unix stream octet counted", ModeUnix, "s1\ns2\n", func(a string) []string {
			return []string{"-u", a, "-T", "--octet-count", "-t", "TAG"}
		}, want{[]string{"s1", "s2"}, hostname, "rfc3164", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.sock")
			h := start(t, func(c *Config) {
				c.Mode, c.Path, c.Timezone = tc.mode, path, "Local"
			})
			addr := h.addr()
			if tc.mode == ModeUnix || tc.mode == ModeUnixDgram {
				addr = path
			}
			before := time.Now().Add(-2 * time.Second)
			runLogger(t, tc.stdin, tc.args(addr)...)
			evs := h.wait(t, len(tc.want.msgs))
			testutil.Diff(t, tc.want.msgs, messages(evs))
			for _, e := range evs {
				checkLoggerEvent(t, e, before, tc.want.host, tc.want.format)
			}
			testutil.Diff(t, tc.want.msgid, field(evs[0], "msgid"))
			testutil.Diff(t, tc.want.sdText, field(evs[0], "sd"))
		})
	}
}

func checkLoggerEvent(t *testing.T, e event.Event, before time.Time, host, format string) {
	t.Helper()
	if e.Host != host || e.Stream != "TAG" || field(e, "syslog_format") != format {
		t.Errorf("host %q stream %q format %q; want %q TAG %q", e.Host, e.Stream, field(e, "syslog_format"), host, format)
	}
	if field(e, "facility") != "user" || field(e, "severity") != "notice" {
		t.Errorf("facility %q severity %q, want user notice", field(e, "facility"), field(e, "severity"))
	}
	if e.Timestamp.Before(before) || e.Timestamp.After(time.Now().Add(2*time.Second)) {
		t.Errorf("timestamp %v is not the time logger sent it", e.Timestamp)
	}
}

func hostPort(addr string) []string {
	host, port, _ := net.SplitHostPort(addr)
	return []string{"-n", host, "-P", port}
}
