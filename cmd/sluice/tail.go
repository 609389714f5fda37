package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/sink/live"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// The tail command registers itself, so commands.go, which other commands
// are added to concurrently, needs no edit for it.
func init() { commands = append(commands, tailCommand) }

var tailCommand = &command{
	name:     "tail",
	synopsis: "[--server URL] [--stream ID]... [--grep REGEX] [--json] [--since DURATION] [--token T] [--tls-ca FILE]",
	summary:  "follow the live events of a running sluice in the terminal",
	about: "Follow the live sink of a running sluice (its /api/v1/live/follow API) and print each\n" +
		"line as \"stream message\", in colour when standard output is a terminal. Several\n" +
		"--stream are merged by time; none follows every stream. When the server's backlog\n" +
		"moved past lines this viewer had not read yet, \"N lines skipped\" is printed on\n" +
		"standard error. A lost connection is retried, resuming after the last line shown.\n" +
		"Exit 0 on SIGINT or SIGTERM, 1 on a bad flag or filter, 2 when the server refuses.",
	examples: []string{
		"sluice tail",
		"sluice tail --stream api --stream worker --grep 'error|timeout'",
		"sluice tail --server https://logs.example:9580 --tls-ca ca.pem --token \"$TOKEN\" --json",
		"sluice tail --since 10m --stream nginx",
	},
	setup: func(fs *flag.FlagSet) func(io.Writer, io.Writer) int {
		o := &tailOptions{}
		fs.StringVar(&o.server, "server", "http://127.0.0.1:9580", "`URL` of the sluice api listener")
		fs.Func("stream", "follow stream `ID` (repeat for several; none: every stream)", func(s string) error {
			o.streams = append(o.streams, s)
			return nil
		})
		fs.StringVar(&o.grep, "grep", "", "show only lines whose message matches `REGEX` (RE2), filtered on the server")
		fs.BoolVar(&o.icase, "icase", false, "--grep ignores case")
		fs.StringVar(&o.expr, "expr", "", "show only events for which `CONDITION` holds (docs/expressions.md)")
		fs.BoolVar(&o.json, "json", false, "print each event as one JSON object per line")
		fs.DurationVar(&o.since, "since", 0, "start with the lines of the last `DURATION` (e.g. 10m)")
		fs.IntVar(&o.last, "last", 10, "start with the last `N` lines of each stream (unless --since)")
		fs.StringVar(&o.token, "token", "", "bearer `TOKEN` for an api listener with auth")
		fs.StringVar(&o.tlsCA, "tls-ca", "", "CA certificate `FILE` that signed the server's certificate")
		return func(stdout, stderr io.Writer) int {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runTail(ctx, o, stdout, stderr)
		}
	},
}

// tailOptions are the flags of `sluice tail`.
type tailOptions struct {
	server, grep, expr, token, tlsCA string
	streams                          []string
	icase, json                      bool
	since                            time.Duration
	last                             int
}

// errRefused ends tail: the server answered that retrying cannot help.
type errRefused struct {
	code int
	msg  string
}

func (e *errRefused) Error() string { return e.msg }

// tailer follows the server, reconnecting, and prints what it gets.
type tailer struct {
	o      *tailOptions
	client *http.Client
	out    io.Writer
	errOut io.Writer
	color  bool
	after  map[string]uint64 // last seq shown per stream, to resume
	buf    []byte            // output of one frame
}

// runTail follows until ctx ends or the server refuses, and returns the
// exit code.
func runTail(ctx context.Context, o *tailOptions, stdout, stderr io.Writer) int {
	u, err := url.Parse(o.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "sluice tail: --server %q: want http://host:port or https://host:port\n", o.server)
		return app.ExitConfig
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.tlsCA != "" {
		if tr.TLSClientConfig, err = tlsconf.Client(o.tlsCA, "", "", "", false); err != nil {
			fmt.Fprintf(stderr, "sluice tail: --tls-ca: %v\n", err)
			return app.ExitConfig
		}
	}
	defer tr.CloseIdleConnections()
	t := &tailer{o: o, client: &http.Client{Transport: tr}, out: stdout, errOut: stderr,
		color: isTerminal(stdout), after: map[string]uint64{}}
	return t.loop(ctx)
}

func (t *tailer) loop(ctx context.Context) int {
	retry := backoff.Exponential{Base: 250 * time.Millisecond, Max: 10 * time.Second, Jitter: true}
	for {
		shown, err := t.follow(ctx)
		if ctx.Err() != nil {
			return app.ExitOK
		}
		var ref *errRefused
		if errors.As(err, &ref) {
			fmt.Fprintf(t.errOut, "sluice tail: %s\n", ref.msg)
			return ref.code
		}
		if shown {
			retry.Reset()
		}
		d := retry.Next()
		fmt.Fprintf(t.errOut, "sluice tail: %v; reconnecting in %s\n", err, d.Round(time.Millisecond))
		if !backoff.Sleep(ctx, d) {
			return app.ExitOK
		}
	}
}

// followURL is the follow request: the filters, and where to start: the
// flags the first time, after the last line shown on a reconnection.
func (t *tailer) followURL() string {
	q := url.Values{}
	for _, s := range t.o.streams {
		q.Add("stream", s)
	}
	if t.o.grep != "" {
		q.Set("grep", t.o.grep)
	}
	if t.o.icase {
		q.Set("icase", "1")
	}
	if t.o.expr != "" {
		q.Set("expr", t.o.expr)
	}
	switch {
	case len(t.after) > 0:
		for s, seq := range t.after {
			q.Add("after", s+":"+strconv.FormatUint(seq, 10))
		}
	case t.o.since > 0:
		q.Set("since", t.o.since.String())
	case t.o.last > 0:
		q.Set("last", strconv.Itoa(t.o.last))
	}
	return strings.TrimSuffix(t.o.server, "/") + live.RoutePrefix + "follow?" + q.Encode()
}

// follow makes one follow request and prints its events until it ends.
// shown reports whether any line came, for the reconnection backoff.
func (t *tailer) follow(ctx context.Context) (shown bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.followURL(), nil)
	if err != nil {
		return false, &errRefused{code: app.ExitConfig, msg: err.Error()}
	}
	req.Header.Set("Accept", "text/event-stream")
	if t.o.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.o.token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("connecting: %w", err)
	}
	defer resp.Body.Close()
	if err := refused(resp); err != nil {
		return false, err
	}
	err = live.ReadSSE(resp.Body, func(typ string, data []byte) error {
		switch typ {
		case "lines":
			n, err := t.print(data)
			shown = shown || n > 0
			return err
		case "skipped":
			var s live.Skipped
			if err := json.Unmarshal(data, &s); err != nil {
				return fmt.Errorf("decoding skipped: %w", err)
			}
			fmt.Fprintf(t.errOut, "sluice tail: %d lines skipped in stream %q (this viewer fell behind the server's backlog)\n",
				s.Skipped, s.Stream)
		}
		return nil
	})
	if err == nil {
		err = errors.New("the server ended the stream")
	}
	return shown, err
}

// refused turns an answer that retrying cannot fix into an errRefused.
func refused(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	msg := strings.TrimSpace(string(body))
	var j struct{ Error string }
	if json.Unmarshal(body, &j) == nil && j.Error != "" {
		msg = j.Error
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &errRefused{code: app.ExitRuntime, msg: fmt.Sprintf("the server refused: %s (check --token)", resp.Status)}
	case http.StatusBadRequest:
		return &errRefused{code: app.ExitConfig, msg: msg}
	case http.StatusNotFound:
		return &errRefused{code: app.ExitRuntime, msg: "the server has no live sink (404 on " + live.RoutePrefix + "follow)"}
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, msg)
}

// print writes a frame's lines: the event's JSON with --json, else
// "stream message". It decodes only what it prints.
func (t *tailer) print(data []byte) (int, error) {
	if t.o.json {
		var l live.Lines
		if err := json.Unmarshal(data, &l); err != nil {
			return 0, fmt.Errorf("decoding lines: %w", err)
		}
		t.buf = t.buf[:0]
		for _, line := range l.Lines {
			t.after[line.Stream] = line.Seq
			t.buf = append(append(t.buf, line.Event...), '\n')
		}
		_, err := t.out.Write(t.buf)
		return len(l.Lines), err
	}
	var l struct {
		Lines []struct {
			Stream string
			Seq    uint64
			Event  struct{ Message string }
		}
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return 0, fmt.Errorf("decoding lines: %w", err)
	}
	t.buf = t.buf[:0]
	for _, line := range l.Lines {
		t.after[line.Stream] = line.Seq
		if t.color {
			t.buf = fmt.Appendf(t.buf, "\x1b[%dm%s\x1b[0m ", streamColor(line.Stream), line.Stream)
		} else {
			t.buf = append(append(t.buf, line.Stream...), ' ')
		}
		t.buf = append(append(t.buf, line.Event.Message...), '\n')
	}
	_, err := t.out.Write(t.buf)
	return len(l.Lines), err
}

// streamColor picks one of six ANSI colours for a stream, the same each time.
func streamColor(stream string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(stream))
	return 31 + int(h.Sum32()%6)
}

// isTerminal reports whether w is a terminal (colours are only for people).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
