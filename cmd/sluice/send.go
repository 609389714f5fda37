package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	wssink "github.com/sluice-log/sluice/internal/sink/websocket"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// The send command registers itself, as tail does.
func init() { commands = append(commands, sendCommand) }

// SplitMarker ends every piece of a line longer than --max-line but the
// last: the pieces, each without its marker, concatenate to the line.
const SplitMarker = " [sluice: line continues]"

// Batching bounds: what one relay batch holds at most, and how many read
// lines may wait for it (the back-pressure on stdin when the server is
// slow or away).
const (
	sendBatchLines = 1000
	sendBatchBytes = 512 << 10
	sendQueue      = 4096
)

var sendCommand = &command{
	name:     "send",
	synopsis: "[--server URL] [--stream ID] [--token T] [--tls-ca FILE] [--mute] [--timeout DURATION] [--max-line SIZE]",
	summary:  "read stdin line by line, echo it, ship it to a sluice server",
	about: "Read standard input line by line, echo it on standard output (unless --mute), and ship\n" +
		"every line as one event of stream --stream to a sluice server's websocket source (the\n" +
		"relay protocol: each batch is acknowledged once the server's sinks took it). Lines are\n" +
		"sent byte for byte, without the newline; nothing is parsed or guessed. A line longer\n" +
		"than --max-line is split into pieces, each but the last ending with\n" +
		"\"" + SplitMarker + "\", and counted on standard error. A lost connection is\n" +
		"dialled again and what has no receipt is sent again. Exit 0 at end of input once\n" +
		"every line is acknowledged; 2 when the server refuses the credentials, rejects lines,\n" +
		"or cannot be reached for --timeout; 1 on a bad flag.",
	examples: []string{
		"tail -F /var/log/app.log | sluice send --stream app",
		"make 2>&1 | sluice send --stream build --mute",
		"app | sluice send --server wss://logs.example:9582 --tls-ca ca.pem --token \"$TOKEN\"",
	},
	setup: func(fs *flag.FlagSet) func(io.Writer, io.Writer) int {
		o := &sendOptions{maxLine: 256 << 10}
		fs.StringVar(&o.server, "server", "ws://127.0.0.1:9582/relay", "`URL` of the server's websocket source (ws://, wss://; http(s):// is taken as ws(s)://; no path means /relay)")
		fs.StringVar(&o.stream, "stream", "stdin", "stream `ID` of the lines (the host name travels as the events' host)")
		fs.StringVar(&o.token, "token", "", "bearer `TOKEN` the server's source requires")
		fs.StringVar(&o.tlsCA, "tls-ca", "", "CA certificate `FILE` that signed the server's certificate")
		fs.BoolVar(&o.mute, "mute", false, "do not echo the input on standard output")
		fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up when no batch is acknowledged for `DURATION`")
		fs.Func("max-line", "split lines longer than `SIZE` (default 256KiB)", func(s string) error {
			n, err := config.ParseByteSize(s)
			if err != nil {
				return err
			}
			if n < 16 || n > 4<<20 {
				return errors.New("must be between 16B and 4MiB")
			}
			o.maxLine = int(n)
			return nil
		})
		return func(stdout, stderr io.Writer) int {
			return runSend(context.Background(), o, os.Stdin, stdout, stderr)
		}
	},
}

// sendOptions are the flags of `sluice send`.
type sendOptions struct {
	server, stream, token, tlsCA string
	mute                         bool
	timeout                      time.Duration
	maxLine                      int
}

// sendStats is what the send loop counted.
type sendStats struct {
	lines, pieces, split, rejected int
}

// runSend ships in to the server and returns the exit code.
func runSend(ctx context.Context, o *sendOptions, in io.Reader, stdout, stderr io.Writer) int {
	wsURL, err := relayURL(o.server)
	if err != nil {
		fmt.Fprintf(stderr, "sluice send: --server %q: %v\n", o.server, err)
		return app.ExitConfig
	}
	if o.stream == "" {
		fmt.Fprintln(stderr, "sluice send: --stream must not be empty")
		return app.ExitConfig
	}
	cfg := &wssink.Config{}
	cfg.Defaults()
	cfg.URL, cfg.Token, cfg.TLS.CA = config.URL(wsURL), config.Secret(o.token), o.tlsCA
	cfg.Timeout = config.Duration(min(o.timeout, 30*time.Second))
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "sluice send: %v\n", err)
		return app.ExitConfig
	}
	// The sink's own logging (connects, resends) is for servers; the
	// command says what matters itself.
	log := logging.New(io.Discard, slog.LevelError, false, 0)
	sk, err := wssink.New(cfg, component.Deps{ID: "send", Logger: log, Metrics: telemetry.Discard("sink", "websocket", "send")})
	if err != nil {
		fmt.Fprintf(stderr, "sluice send: %v\n", err)
		return app.ExitConfig
	}
	defer func() { _ = sk.Close(context.Background()) }() // closing politely; nothing to report

	host, _ := os.Hostname()
	lines := make(chan event.Event, sendQueue)
	readErr := make(chan error, 1)
	var st sendStats
	go func() {
		defer close(lines)
		var echo io.Writer
		if !o.mute {
			echo = stdout
		}
		readErr <- readLines(in, echo, o.maxLine, func(msg []byte) {
			lines <- event.Event{Timestamp: time.Now(), Host: host, Stream: o.stream, Message: msg}
		}, &st)
	}()
	code := shipAll(ctx, sk, o, lines, &st, stderr)
	if code != app.ExitOK {
		return code
	}
	if err := <-readErr; err != nil {
		fmt.Fprintf(stderr, "sluice send: reading standard input: %v\n", err)
		return app.ExitRuntime
	}
	if st.split > 0 {
		fmt.Fprintf(stderr, "sluice send: %d line(s) longer than %d bytes split into %d pieces, marked %q\n",
			st.split, o.maxLine, st.pieces, SplitMarker)
	}
	if st.rejected > 0 {
		fmt.Fprintf(stderr, "sluice send: the server rejected %d line(s)\n", st.rejected)
		return app.ExitRuntime
	}
	return app.ExitOK
}

// relayURL turns --server into the websocket source's URL.
func relayURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", errors.New("want ws://host:port[/path] or wss://host:port[/path]")
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/relay"
	}
	return u.String(), nil
}

// shipAll sends batches of what arrives on lines until it is closed, and
// returns an exit code: not OK when the server refuses or stays away.
func shipAll(ctx context.Context, sk component.Sink, o *sendOptions, lines <-chan event.Event, st *sendStats, stderr io.Writer) int {
	for {
		ev, ok := <-lines
		if !ok {
			return app.ExitOK
		}
		b := &event.Batch{Events: []event.Event{ev}}
		size := len(ev.Message)
	fill:
		for len(b.Events) < sendBatchLines && size < sendBatchBytes {
			select {
			case ev, ok := <-lines:
				if !ok {
					break fill
				}
				b.Events = append(b.Events, ev)
				size += len(ev.Message)
			default:
				break fill
			}
		}
		if code := ship(ctx, sk, o, b, st, stderr); code != app.ExitOK {
			return code
		}
	}
}

// ship writes one batch until the server acknowledges it, retrying with
// the same *Batch so the sink resends it under the same sequence numbers
// (the server recognises a batch it already took).
func ship(ctx context.Context, sk component.Sink, o *sendOptions, b *event.Batch, st *sendStats, stderr io.Writer) int {
	retry := backoff.Exponential{Base: 100 * time.Millisecond, Max: 5 * time.Second, Jitter: true}
	giveUp := time.Now().Add(o.timeout)
	warned := false
	for {
		err := sk.Write(ctx, b)
		var rej *component.RejectError
		var part *component.PartialError
		switch {
		case err == nil:
			if warned {
				fmt.Fprintln(stderr, "sluice send: connected again; resent what had no receipt")
			}
			return app.ExitOK
		case errors.Is(err, wssink.ErrUnauthorized):
			fmt.Fprintf(stderr, "sluice send: the server refused the credentials (--token): %v\n", err)
			return app.ExitRuntime
		case errors.As(err, &rej):
			st.rejected += len(b.Events)
			fmt.Fprintf(stderr, "sluice send: %v\n", err)
			return app.ExitOK
		case errors.As(err, &part):
			for _, oc := range part.Outcomes {
				if oc == component.Reject {
					st.rejected++
				}
			}
			fmt.Fprintf(stderr, "sluice send: %v\n", err)
			return app.ExitOK
		case ctx.Err() != nil:
			return app.ExitRuntime
		}
		if time.Now().After(giveUp) {
			fmt.Fprintf(stderr, "sluice send: giving up after %s without an acknowledgement: %v\n", o.timeout, err)
			return app.ExitRuntime
		}
		d := retry.Next()
		if !warned {
			fmt.Fprintf(stderr, "sluice send: %v; retrying for up to %s\n", err, o.timeout)
			warned = true
		}
		if !backoff.Sleep(ctx, d) {
			return app.ExitRuntime
		}
	}
}

// readLines reads in line by line, echoes it byte for byte to echo (when
// not nil) and passes each line without its newline to emit, split into
// pieces of at most max bytes (plus SplitMarker) at a UTF-8 boundary.
// Messages are carved from shared slabs, not allocated one by one.
func readLines(in io.Reader, echo io.Writer, maxLine int, emit func([]byte), st *sendStats) error {
	r := bufio.NewReaderSize(in, maxLine+1) // room for a line of max bytes and its newline
	var w *bufio.Writer
	if echo != nil {
		w = bufio.NewWriterSize(echo, 64<<10)
	}
	var slab, acc []byte
	inLong := false // the current line was already split
	take := func(parts ...[]byte) []byte {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		if cap(slab)-len(slab) < n {
			slab = make([]byte, 0, max(64<<10, n))
		}
		start := len(slab)
		for _, p := range parts {
			slab = append(slab, p...)
		}
		return slab[start:len(slab):len(slab)]
	}
	marker := []byte(SplitMarker)
	for {
		chunk, err := r.ReadSlice('\n')
		if w != nil && len(chunk) > 0 {
			if _, werr := w.Write(chunk); werr != nil {
				w = nil // stdout closed: keep shipping
			} else if r.Buffered() == 0 {
				_ = w.Flush()
			}
		}
		complete := err == nil || (errors.Is(err, io.EOF) && (len(chunk) > 0 || inLong))
		if complete {
			chunk = trimNewline(chunk)
		}
		acc = append(acc, chunk...)
		for len(acc) > maxLine {
			cut := runeCut(acc, maxLine)
			emit(take(acc[:cut], marker))
			st.pieces++
			if !inLong {
				st.split++
				inLong = true
			}
			acc = acc[:copy(acc, acc[cut:])]
		}
		if complete {
			emit(take(acc))
			st.lines++
			if inLong {
				st.pieces++
			}
			acc, inLong = acc[:0], false
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if w != nil {
				_ = w.Flush()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// trimNewline drops one trailing "\n"; a "\r" before it is the line's own.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// runeCut returns where to cut b (longer than max) to at most max bytes
// without splitting a valid UTF-8 sequence; bytes that are not UTF-8 are
// cut anywhere.
func runeCut(b []byte, max int) int {
	for k := 1; k < utf8.UTFMax && max-k >= 0; k++ {
		if i := max - k; utf8.RuneStart(b[i]) {
			if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError && i+size > max && i > 0 {
				return i
			}
			return max
		}
	}
	return max
}
