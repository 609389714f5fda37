package e2e

import (
	"bufio"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// The examples under examples/metrics are run here as users run them: the
// shipped sluice.yaml, unchanged but for ${VAR:-default} paths set through
// the environment, over the shipped sample log. Every expected value is
// counted from the sample log by the test itself, with plain string
// handling rather than the config's regexes, so an edit to a log or a
// config that changes what sluice counts fails here instead of drifting.

const examplesDir = "../../examples/metrics"

// exampleConfig returns the path of the example's shipped config.
func exampleConfig(name string) string {
	return filepath.Join(examplesDir, name, "sluice.yaml")
}

// TestExamplesValidate: `sluice validate -c` accepts every example with
// its defaults (no environment set).
func TestExamplesValidate(t *testing.T) {
	configs, err := filepath.Glob(filepath.Join(examplesDir, "*", "sluice.yaml"))
	if err != nil || len(configs) < 3 {
		t.Fatalf("examples: %v, %v", configs, err)
	}
	for _, c := range configs {
		name := filepath.Base(filepath.Dir(c))
		t.Run(name, func(t *testing.T) {
			path := exampleConfig(name)
			if out, err := exec.Command(sluiceBin(t), "validate", "-c", path).CombinedOutput(); err != nil {
				t.Fatalf("sluice validate: %v\n%s", err, out)
			}
			for _, f := range []string{"README.md"} {
				if _, err := os.Stat(filepath.Join(examplesDir, name, f)); err != nil {
					t.Errorf("the example has no %s: %v", f, err)
				}
			}
		})
	}
}

// runExample starts sluice on the example's config with env set, and
// returns the process and its api address.
func runExample(t *testing.T, name string, env map[string]string) (*proc, string) {
	t.Helper()
	cfg := exampleConfig(name)
	env["SLUICE_DATA_DIR"] = filepath.Join(t.TempDir(), "data")
	env["SLUICE_API_LISTEN"] = "127.0.0.1:0"
	for k, v := range env {
		t.Setenv(k, v)
	}
	p := start(t, cfg, nil)
	return p, p.api()
}

// copySample copies an example's sample log into dir, so the test can
// append to it, and returns the copy's path and lines.
func copySample(t *testing.T, name, file, dir string) (string, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name, file))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, file)
	writeFile(t, dst, string(data))
	return dst, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// series scrapes /metrics and returns every sample as printed (name with
// its sorted labels) → value; exemplars are left out.
func series(t *testing.T, addr, accept string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(scrape(t, addr, accept)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line, _, _ = strings.Cut(line, " # ")
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// only keeps the samples of metric name (its own samples, not _bucket...).
func only(m map[string]float64, name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			out[k] = v
		}
	}
	return out
}

func sum(m map[string]float64) float64 {
	s := 0.0
	for _, v := range m {
		s += v
	}
	return s
}

// after returns the whitespace-separated word after marker in s.
func after(s, marker string) string {
	_, rest, ok := strings.Cut(s, marker)
	if !ok {
		return ""
	}
	w, _, _ := strings.Cut(rest, " ")
	return w
}

// reactionIP is the exporter's pre-treatment the config asks for: IPv4
// addresses whole, IPv6 ones as their /64.
func reactionIP(t *testing.T, s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("sample address %q: %v", s, err)
	}
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

func reactionKey(stream, filter, ip, domain string) string {
	return fmt.Sprintf(`reaction_match_count{domain=%q,filter=%q,ip=%q,stream=%q}`, domain, filter, ip, stream)
}

// between returns the text of s between begin and the next end.
func between(s, begin, end string) string {
	_, rest, _ := strings.Cut(s, begin)
	v, _, _ := strings.Cut(rest, end)
	return v
}

// reactionExpected counts the matches of the example's three filters.
func reactionExpected(t *testing.T, auth, access, mail []string) map[string]float64 {
	want := map[string]float64{}
	for _, l := range auth {
		if strings.Contains(l, " sshd[") && (strings.Contains(l, "]: Failed password for ") || strings.Contains(l, "]: Invalid user ")) {
			want[reactionKey("ssh", "failedlogin", reactionIP(t, after(l, " from ")), "")]++
		}
	}
	for _, l := range access {
		// ip - user [time] "request" status bytes "referer" "agent"
		parts := strings.Split(l, `"`)
		status, _ := strconv.Atoi(strings.Fields(parts[2])[0])
		if status >= 400 && status < 500 {
			want[reactionKey("nginx", "http4xx", reactionIP(t, strings.Fields(l)[0]), "")]++
		}
	}
	for _, l := range mail {
		if strings.Contains(l, " dovecot: ") && strings.Contains(l, "(auth failed, ") {
			user := between(l, "user=<", ">")
			domain := strings.ToLower(user[strings.LastIndex(user, "@")+1:])
			want[reactionKey("mail", "authfail", reactionIP(t, between(l, "rip=", ",")), domain)]++
		}
	}
	return want
}

// TestExampleReactionExporter: reaction_match_count counts the matches
// since the last scrape. Scrapes are summed until they add up to the
// sample's matches (each scrape resets what it saw, so no match may be seen
// twice), then new matches appear in the next scrapes alone.
func TestExampleReactionExporter(t *testing.T) {
	const name = "reaction-exporter"
	dir := t.TempDir()
	authPath, auth := copySample(t, name, "auth.log", dir)
	accessPath, access := copySample(t, name, "access.log", dir)
	mailPath, mail := copySample(t, name, "mail.log", dir)
	want := reactionExpected(t, auth, access, mail)
	if len(want) < 10 || sum(want) < 100 {
		t.Fatalf("the sample logs hold too few matches: %v", want)
	}
	p, api := runExample(t, name, map[string]string{"AUTH_LOG": authPath, "NGINX_ACCESS_LOG": accessPath, "MAIL_LOG": mailPath})

	seen := map[string]float64{}
	collect := func() float64 {
		for k, v := range only(series(t, api, ""), "reaction_match_count") {
			seen[k] += v
		}
		return sum(seen)
	}
	waitFor(t, 30*time.Second, "the sample's matches", func() bool { return collect() >= sum(want) })
	testutil.Diff(t, want, nonZero(seen))
	if got := nonZero(only(series(t, api, ""), "reaction_match_count")); len(got) != 0 {
		t.Errorf("a scrape after everything was counted shows %v, want nothing since the previous scrape", got)
	}
	if body := scrape(t, api, ""); !strings.Contains(body, "# TYPE reaction_match_count gauge\n") {
		t.Error("reaction_match_count is not exposed as a gauge (its value goes down after a scrape)")
	}

	// Three new failed logins from one IPv6 client: the next scrapes show
	// those three alone, under the client's /64.
	f, err := os.OpenFile(authPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var more []string
	for i := range 3 {
		more = append(more, fmt.Sprintf("Dec  6 09:00:0%d web1 sshd[9%d]: Failed password for root from 2001:db8:bad:1::%x port 4431%d ssh2", i, i, i+1, i))
	}
	if _, err := f.WriteString(strings.Join(more, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	seen = map[string]float64{}
	waitFor(t, 30*time.Second, "the three new matches", func() bool { return collect() >= 3 })
	testutil.Diff(t, reactionExpected(t, more, nil, nil), nonZero(seen))
	p.stop(syscall.SIGTERM)
}

func nonZero(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// TestExampleNginxDashboard: requests by code and method, bytes by code and
// the latency histogram, exactly as counted from the sample log; the
// histogram's buckets carry request ids of the sample as exemplars.
func TestExampleNginxDashboard(t *testing.T) {
	const name = "nginx-dashboard"
	path, lines := copySample(t, name, "access.log", t.TempDir())
	timing := regexp.MustCompile(` rt=([0-9.]+) rid=([0-9a-f]+)$`)
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
	want := map[string]float64{}
	buckets := make([]float64, len(bounds))
	total := 0.0
	ids := map[string]bool{}
	for _, l := range lines {
		parts := strings.Split(l, `"`)
		method := strings.Fields(parts[1])[0]
		f := strings.Fields(parts[2])
		want[fmt.Sprintf(`http_requests_total{code=%q,method=%q}`, f[0], method)]++
		b, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("sample line %q: %v", l, err)
		}
		want[fmt.Sprintf(`http_response_bytes_total{code=%q}`, f[0])] += b
		m := timing.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("sample line without rt= and rid=: %q", l)
		}
		rt, _ := strconv.ParseFloat(m[1], 64)
		total += rt
		ids[m[2]] = true
		for i, le := range bounds {
			if rt <= le {
				buckets[i]++
			}
		}
	}
	for i, le := range bounds {
		want[fmt.Sprintf(`http_request_duration_seconds_bucket{le=%q}`, strconv.FormatFloat(le, 'g', -1, 64))] = buckets[i]
	}
	want[`http_request_duration_seconds_bucket{le="+Inf"}`] = float64(len(lines))
	want[`http_request_duration_seconds_count`] = float64(len(lines))

	p, api := runExample(t, name, map[string]string{"NGINX_ACCESS_LOG": path})
	var got map[string]float64
	// Each rule is a sink of its own and finishes in its own time: wait
	// until every family has counted every request.
	families := []string{"http_requests_total", "http_response_bytes_total", "http_request_duration_seconds_bucket", "http_request_duration_seconds_count"}
	waitFor(t, 30*time.Second, "every request counted by every rule", func() bool {
		got = series(t, api, "")
		for _, n := range families {
			if sum(only(got, n)) != sum(only(want, n)) {
				return false
			}
		}
		return true
	})
	if s := got[`http_request_duration_seconds_sum`]; math.Abs(s-total) > 1e-9*total {
		t.Errorf("http_request_duration_seconds_sum = %v, want %v", s, total)
	}
	for _, n := range families {
		testutil.Diff(t, only(want, n), only(got, n))
	}

	om := scrape(t, api, "application/openmetrics-text; version=1.0.0")
	exemplars := regexp.MustCompile(`(?m)^http_request_duration_seconds_bucket\{.*\} \S+ # \{request_id="([0-9a-f]+)"\}`).FindAllStringSubmatch(om, -1)
	if len(exemplars) == 0 {
		t.Errorf("no request_id exemplar on the histogram's buckets in OpenMetrics:\n%s", om)
	}
	for _, e := range exemplars {
		if !ids[e[1]] {
			t.Errorf("exemplar request_id %q is not a request id of the sample", e[1])
		}
	}
	p.stop(syscall.SIGTERM)
}

// TestExampleSSHFailedLogins: the sample log becomes a real journal
// (systemd-journal-remote, as the journald source's tests make theirs),
// read by the journald source through journalctl; the first 20 addresses
// get series of their own, the failed logins of later addresses fold into
// __overflow__ and count in sluice_metrics_series_folded_total.
func TestExampleSSHFailedLogins(t *testing.T) {
	const name = "ssh-failed-logins"
	sluiceBin(t) // skips with -short before the journal is built
	usePeers(t)
	_, lines := copySample(t, name, "auth.log", t.TempDir())
	journalDir := t.TempDir()
	buildJournal(t, lines, filepath.Join(journalDir, "sshd.journal"))

	const maxSeries = 20
	want := map[string]float64{}
	ips := map[string]bool{}
	folded, failed := 0.0, 0.0
	for _, l := range lines {
		if !strings.Contains(l, " sshd[") || !(strings.Contains(l, "]: Failed password for ") || strings.Contains(l, "]: Failed publickey for ")) {
			continue
		}
		failed++
		ip := after(l, " from ")
		if !ips[ip] && len(ips) >= maxSeries {
			want[`ssh_failed_logins_total{ip="__overflow__"}`]++
			folded++
			continue
		}
		ips[ip] = true
		want[fmt.Sprintf(`ssh_failed_logins_total{ip=%q}`, ip)]++
	}
	if folded == 0 || len(ips) != maxSeries {
		t.Fatalf("the sample needs more than %d addresses: %d, %v folded", maxSeries, len(ips), folded)
	}

	p, api := runExample(t, name, map[string]string{"SSH_JOURNAL_DIR": journalDir, "SSH_READ_FROM": "beginning"})
	var got map[string]float64
	waitFor(t, 30*time.Second, "every failed login counted", func() bool {
		got = series(t, api, "")
		return sum(only(got, "ssh_failed_logins_total")) >= failed
	})
	testutil.Diff(t, want, only(got, "ssh_failed_logins_total"))
	if f := got[`sluice_metrics_series_folded_total{rule="ssh_failed_logins_total"}`]; f != folded {
		t.Errorf("sluice_metrics_series_folded_total = %v, want %v", f, folded)
	}
	p.stop(syscall.SIGTERM)
}

// usePeers puts the test peers' directory first on PATH, as the Makefile
// does, so sluice finds their journalctl; and requires journalctl and
// systemd-journal-remote.
func usePeers(t *testing.T) {
	t.Helper()
	root := os.Getenv("SLUICE_PEERS_ROOT")
	if root == "" {
		root = "/opt/sluice-peers"
	}
	if _, err := os.Stat(filepath.Join(root, "bin")); err == nil {
		t.Setenv("PATH", filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		testutil.RequireCI(t, "journalctl is not installed (scripts/install-test-deps.sh)")
	}
}

// buildJournal writes syslog-style lines ("Dec  6 03:00:33 host ident[pid]:
// message") into a journal file as journald would have stored them: sshd
// under ssh.service, anything else under <ident>.service.
func buildJournal(t *testing.T, lines []string, file string) {
	t.Helper()
	remote, err := exec.LookPath("systemd-journal-remote")
	if err != nil {
		for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
			if _, serr := os.Stat(p); serr == nil {
				remote, err = p, nil
			}
		}
	}
	if err != nil {
		testutil.RequireCI(t, "systemd-journal-remote is not installed (scripts/install-test-deps.sh)")
	}
	var b strings.Builder
	for i, l := range lines {
		ts, err := time.Parse("2006 Jan _2 15:04:05", "2026 "+l[:15])
		if err != nil {
			t.Fatalf("sample line %q: %v", l, err)
		}
		host, rest, _ := strings.Cut(l[16:], " ")
		tag, msg, _ := strings.Cut(rest, ": ")
		ident, pid, _ := strings.Cut(strings.TrimSuffix(tag, "]"), "[")
		unit := ident + ".service"
		if ident == "sshd" {
			unit = "ssh.service"
		}
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=6f1c0e2a9b7d4c3e8a5f0b1d2c3e4f5a\n"+
			"_HOSTNAME=%s\nSYSLOG_IDENTIFIER=%s\n_PID=%s\n_SYSTEMD_UNIT=%s\nPRIORITY=6\nMESSAGE=%s\n\n",
			ts.UnixMicro()+int64(i), 1000000+i, host, ident, pid, unit, msg)
	}
	export := filepath.Join(t.TempDir(), "export.txt")
	writeFile(t, export, b.String())
	if out, err := exec.Command(remote, "--output="+file, export).CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}
