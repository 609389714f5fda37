package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// errEnough stops a ReadSSE loop.
var errEnough = errors.New("enough")

// viewer follows a URL and records what it is sent.
type viewer struct {
	lines   []Line
	skipped uint64
	hello   chan struct{}
}

// follow reads the SSE stream at path until stop says so or ctx ends; it
// closes v.hello once the server said hello.
func (p *apiPeer) follow(ctx context.Context, t testing.TB, path string, v *viewer, stop func(*viewer) bool) error {
	resp := p.get(ctx, t, path)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		return fmt.Errorf("content type %q", ct)
	}
	err := ReadSSE(resp.Body, func(typ string, data []byte) error {
		switch typ {
		case "hello":
			if v.hello != nil {
				close(v.hello)
			}
		case "lines":
			var l Lines
			if err := json.Unmarshal(data, &l); err != nil {
				return fmt.Errorf("lines %q: %w", data, err)
			}
			v.lines = append(v.lines, l.Lines...)
		case "skipped":
			var s Skipped
			if err := json.Unmarshal(data, &s); err != nil {
				return err
			}
			v.skipped += s.Skipped
		}
		if stop(v) {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

func write(t testing.TB, s *Sink, stream string, from, n int) {
	t.Helper()
	b := &event.Batch{}
	t0 := time.Now()
	for i := from; i < from+n; i++ {
		b.Events = append(b.Events, ev(stream, fmt.Sprintf("%s line %d", stream, i), t0.Add(time.Duration(i)),
			event.Field{Key: "n", Value: event.Int(int64(i))}))
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}

func messagesOf(lines []Line) []string {
	var out []string
	for _, l := range lines {
		var e struct{ Message string }
		_ = json.Unmarshal(l.Event, &e)
		out = append(out, e.Message)
	}
	return out
}

// TestFollowMergesAndFilters follows two streams with a grep, from 2
// lines back: the backlog lines come first, then new lines as they are
// written, filtered, with the stream and seq of each.
func TestFollowMergesAndFilters(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	p := newAPIServer(t, s, "tok")
	write(t, s, "a", 0, 5)
	write(t, s, "b", 0, 5)
	write(t, s, "c", 0, 5)
	v := &viewer{hello: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		errc <- p.follow(t.Context(), t, "/api/v1/live/follow?stream=a&stream=b&last=2&grep=LINE+[0-9]*[02468]$&icase=1", v,
			func(v *viewer) bool { return len(v.lines) >= 6 })
	}()
	<-v.hello
	write(t, s, "a", 5, 5)
	write(t, s, "c", 5, 5)
	write(t, s, "b", 5, 5)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	got := messagesOf(v.lines)
	// Backlog: a 3, a 4, b 3, b 4 -> the even ones: a 4, b 4 (merged by
	// time: a's and b's line 4 have the same offset; a was written first).
	testutil.Diff(t, []string{"a line 4", "b line 4", "a line 6", "a line 8", "b line 6", "b line 8"}, got)
	testutil.Diff(t, "b", v.lines[1].Stream)
	testutil.Diff(t, uint64(4), v.lines[1].Seq)
}

// TestFollowExpr filters by an expression over the fields.
func TestFollowExpr(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	p := newAPIServer(t, s, "")
	write(t, s, "a", 0, 20)
	v := &viewer{}
	err := p.follow(t.Context(), t, "/api/v1/live/follow?since=0&expr=n+%3E%3D+17", v, func(v *viewer) bool { return len(v.lines) >= 3 })
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{"a line 17", "a line 18", "a line 19"}, messagesOf(v.lines))
}

// TestFollowResume: after=STREAM:SEQ resumes right after that line; a
// cursor past the stream's end is from an earlier stream of that name (a
// crash renumbered it from 0): the viewer gets the whole stream rather than
// waiting, blind, until the new numbers pass the old cursor.
func TestFollowResume(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, after string
		want        []string
	}{
		{"after a line", "a:b:6", []string{"a:b line 7", "a:b line 8", "a:b line 9"}},
		{"from an earlier stream", "a:b:500", []string{"a:b line 0", "a:b line 1", "a:b line 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSink(t, nil)
			p := newAPIServer(t, s, "")
			write(t, s, "a:b", 0, 10)
			v := &viewer{}
			// A viewer that waits for lines that never come must fail, not hang.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := p.follow(ctx, t, "/api/v1/live/follow?stream=a:b&after="+tc.after, v, func(v *viewer) bool { return len(v.lines) >= 3 }); err != nil {
				t.Fatalf("following after=%s: %v (got %q)", tc.after, err, messagesOf(v.lines))
			}
			testutil.Diff(t, tc.want, messagesOf(v.lines)[:3])
		})
	}
}

// TestFollowWaitsForStream: a stream that does not exist yet is followed
// from its first line once it appears.
func TestFollowWaitsForStream(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	p := newAPIServer(t, s, "")
	v := &viewer{hello: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		errc <- p.follow(t.Context(), t, "/api/v1/live/follow?stream=later", v, func(v *viewer) bool { return len(v.lines) >= 2 })
	}()
	<-v.hello
	write(t, s, "later", 0, 2)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{"later line 0", "later line 1"}, messagesOf(v.lines))
}

func TestStreamsBacklogSearch(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	p := newAPIServer(t, s, "")
	write(t, s, "a", 0, 30)
	write(t, s, "b", 0, 3)

	var streams struct{ Streams []Info }
	testutil.Diff(t, http.StatusOK, p.getJSON(t, "/api/v1/live/streams", &streams))
	testutil.Diff(t, 2, len(streams.Streams))
	a := streams.Streams[0]
	if a.Name != "a" || a.Lines != 30 || a.NextSeq != 30 || a.Bytes == 0 || a.Rate != 0.5 || time.Since(a.LastSeen) > time.Minute {
		t.Errorf("stream a: %+v", a)
	}

	var win struct {
		Stream         string
		FirstSeq       uint64 `json:"first_seq"`
		NextSeq        uint64 `json:"next_seq"`
		WindowFirstSeq uint64 `json:"window_first_seq"`
		Lines          []Line
	}
	testutil.Diff(t, http.StatusOK, p.getJSON(t, "/api/v1/live/backlog?stream=a&before=20&limit=3", &win))
	testutil.Diff(t, []string{"a line 17", "a line 18", "a line 19"}, messagesOf(win.Lines))
	testutil.Diff(t, uint64(17), win.WindowFirstSeq)
	var bad struct{ Error string }
	testutil.Diff(t, http.StatusBadRequest, p.getJSON(t, "/api/v1/live/backlog", &bad))
	testutil.Diff(t, http.StatusNotFound, p.getJSON(t, "/api/v1/live/backlog?stream=zz", &bad))
	testutil.Diff(t, http.StatusBadRequest, p.getJSON(t, "/api/v1/live/follow?grep=(", &bad))
	if !strings.Contains(bad.Error, "grep") {
		t.Errorf("error %q does not name grep", bad.Error)
	}

	// Search: newest first per chunk, limited, then done.
	resp := p.get(t.Context(), t, "/api/v1/live/search?stream=a&grep=line+1&limit=5")
	defer resp.Body.Close()
	var found []Line
	var done struct {
		Matched, Scanned int
		Truncated        bool
	}
	err := ReadSSE(resp.Body, func(typ string, data []byte) error {
		switch typ {
		case "lines":
			var l Lines
			if err := json.Unmarshal(data, &l); err != nil {
				return err
			}
			found = append(found, l.Lines...)
		case "done":
			return json.Unmarshal(data, &done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// "line 1" matches 1 and 10..19; the newest five are 15..19.
	testutil.Diff(t, []string{"a line 15", "a line 16", "a line 17", "a line 18", "a line 19"}, messagesOf(found))
	if done.Matched != 5 || !done.Truncated || done.Scanned != 30 {
		t.Errorf("done = %+v", done)
	}
}

// TestRoutesNeedAuth: with auth on, every live route answers 401 without
// credentials and with a wrong token, and serves with the right one.
func TestRoutesNeedAuth(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, nil)
	p := newAPIServer(t, s, "right")
	write(t, s, "x", 0, 1)
	for _, route := range Routes {
		path := strings.TrimPrefix(route, "GET ") + "?stream=x"
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"no credentials", "", http.StatusUnauthorized},
			{"wrong token", "wrong", http.StatusUnauthorized},
			{"right token", "right", http.StatusOK},
		} {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel() // ends a follow
				pp := *p
				pp.token = tc.token
				resp := pp.get(ctx, t, path)
				resp.Body.Close()
				testutil.Diff(t, tc.want, resp.StatusCode)
			})
		}
	}
}

// TestMountedWhileRunning: New mounts the routes through Deps.HTTP, and
// Close takes them away (404), as a reload that drops the sink does.
func TestMountedWhileRunning(t *testing.T) {
	t.Parallel()
	srv, m := startAPI(t, config.API{})
	deps := testutil.Deps(t, "live")
	deps.HTTP = m
	sk, err := New(testutil.NewConfig[Config](t, nil), deps)
	if err != nil {
		t.Fatal(err)
	}
	p := &apiPeer{URL: "http://" + srv.Addr().String(), client: &http.Client{Transport: &http.Transport{}}}
	defer p.client.CloseIdleConnections()
	var streams struct{ Streams []Info }
	testutil.Diff(t, http.StatusOK, p.getJSON(t, "/api/v1/live/streams", &streams))
	if err := sk.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp := p.get(t.Context(), t, "/api/v1/live/streams")
	resp.Body.Close()
	testutil.Diff(t, http.StatusNotFound, resp.StatusCode)
}

// stalledViewer connects with a small receive buffer, reads up to the
// hello, then stops reading until release is closed: a viewer on a slow
// link, or a browser tab in the background.
func stalledViewer(t *testing.T, p *apiPeer, path string, release <-chan struct{}, total uint64) <-chan *viewer {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.DialContext(t.Context(), "tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, strings.TrimPrefix(p.URL, "http://"))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{}
	hello := make(chan struct{})
	done := make(chan *viewer, 1)
	go func() {
		defer resp.Body.Close()
		err := ReadSSE(resp.Body, func(typ string, data []byte) error {
			switch typ {
			case "hello":
				close(hello)
				<-release
			case "lines":
				var l Lines
				if err := json.Unmarshal(data, &l); err != nil {
					return err
				}
				v.lines = append(v.lines, l.Lines...)
			case "skipped":
				var s Skipped
				if err := json.Unmarshal(data, &s); err != nil {
					return err
				}
				v.skipped += s.Skipped
			}
			if uint64(len(v.lines))+v.skipped >= total {
				return errEnough
			}
			return nil
		})
		if !errors.Is(err, errEnough) {
			t.Errorf("stalled viewer: %v", err)
		}
		done <- v
	}()
	<-hello
	return done
}

// TestSlowViewer: a viewer that stops reading does not hold the sink back
// (every event is written to the ring while it is stalled); when it reads
// again it is told exactly how many lines it missed, and shown plus
// skipped is everything written, with the lines shown in order. A viewer
// reading at full speed meanwhile gets the same accounting.
func TestSlowViewer(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.MaxLines = 1000 })
	p := newAPIServer(t, s, "")
	total, batch := 100_000, 500
	if testing.Short() {
		total = 50_000 // still far more than the socket buffers hold
	}
	release := make(chan struct{})
	slow := stalledViewer(t, p, "/api/v1/live/follow?stream=s", release, uint64(total))
	fast := &viewer{hello: make(chan struct{})}
	fastDone := make(chan error, 1)
	go func() {
		fastDone <- p.follow(t.Context(), t, "/api/v1/live/follow?stream=s", fast, func(v *viewer) bool {
			return uint64(len(v.lines))+v.skipped >= uint64(total)
		})
	}()
	<-fast.hello
	start := time.Now()
	for i := 0; i < total; i += batch {
		write(t, s, "s", i, batch)
	}
	t.Logf("wrote %d events in %v with a stalled viewer", total, time.Since(start))
	_, next := s.store.Get("s").Bounds()
	testutil.Diff(t, uint64(total), next) // every event is in the ring's sequence
	close(release)
	v := <-slow
	if err := <-fastDone; err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*viewer{"slow": v, "fast": fast} {
		if uint64(len(v.lines))+v.skipped != uint64(total) {
			t.Errorf("%s viewer: shown %d + skipped %d != %d", name, len(v.lines), v.skipped, total)
		}
		for i := 1; i < len(v.lines); i++ {
			if v.lines[i].Seq <= v.lines[i-1].Seq {
				t.Fatalf("%s viewer: seq %d after %d", name, v.lines[i].Seq, v.lines[i-1].Seq)
			}
		}
		t.Logf("%s viewer: shown %d, skipped %d", name, len(v.lines), v.skipped)
	}
	if v.skipped == 0 {
		t.Errorf("the stalled viewer skipped nothing: the test did not stall it")
	}
}

// TestFollowEveryStream: without stream=, every stream is followed,
// including streams that appear later (from their first line); a dropped
// stream's unread lines are still delivered, and one that comes back is
// followed again (its new lines, seqs from 0 again).
func TestFollowEveryStream(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	s := newSink(testutil.NewConfig[Config](t, func(c *Config) { c.StreamIdle = config.Duration(time.Hour) }),
		testutil.Deps(t, "live"), clock)
	p := newAPIServer(t, s, "")
	write(t, s, "a", 0, 3)
	v := &viewer{hello: make(chan struct{})}
	errc := make(chan error, 1)
	gotB := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	go func() {
		errc <- p.follow(ctx, t, "/api/v1/live/follow?last=1", v, func(v *viewer) bool {
			if len(v.lines) == 3 {
				close(gotB)
			}
			return len(v.lines) >= 6
		})
	}()
	<-v.hello
	write(t, s, "b", 0, 2)
	<-gotB
	write(t, s, "b", 2, 1) // b's last line: still read after b is dropped
	now = now.Add(2 * time.Hour)
	testutil.Diff(t, 2, s.store.Expire(now))
	s.store.notify()
	write(t, s, "a", 100, 2)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	got := messagesOf(v.lines)
	testutil.Diff(t, []string{"a line 2", "b line 0", "b line 1", "b line 2", "a line 100", "a line 101"}, got)
	testutil.Diff(t, uint64(0), v.lines[4].Seq)
}
