// Command synsend is the load generator of bench/syslog.sh: it sends N
// syslog messages of exactly -size bytes (framing excluded) over one TCP
// connection, each with a 10-digit sequence number, in large buffered
// writes, so that it is never the bottleneck of a receiver benchmark.
//
//	synsend -addr 127.0.0.1:36514 -n 1000000 -size 200 -framing lf|octet -format 3164|5424 [-watch FILE]
//
// With -watch it then polls the receiver's output file every 5 ms and
// reports when the file last grew (recv_done, measured from the start of
// sending), once it has not grown for -settle. It prints key=value lines
// on stdout for the script to read.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	addr, framing, format, host, watch string
	n, size, bufSize                   int
	settle, maxWait                    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:36514", "receiver host:port (TCP)")
	flag.IntVar(&o.n, "n", 1000000, "messages to send")
	flag.IntVar(&o.size, "size", 200, "bytes per message, framing excluded")
	flag.StringVar(&o.framing, "framing", "lf", "lf (newline after each message) or octet (RFC 6587 octet counting)")
	flag.StringVar(&o.format, "format", "3164", "3164 (BSD syslog) or 5424")
	flag.StringVar(&o.host, "host", "benchhost", "HOSTNAME of the messages")
	flag.IntVar(&o.bufSize, "buffer", 256<<10, "write buffer size in bytes")
	flag.StringVar(&o.watch, "watch", "", "after sending, watch this file until it stops growing")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "with -watch: done once the file has not grown for this long")
	flag.DurationVar(&o.maxWait, "maxwait", 120*time.Second, "with -watch: give up when the file is still empty after this long")
	flag.Parse()
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "synsend:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	if o.framing != "lf" && o.framing != "octet" {
		return fmt.Errorf("-framing %q: want lf or octet", o.framing)
	}
	tmpl, err := template(o)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := send(o, tmpl); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("sent=%d size=%d elapsed=%.3fs rate=%.0f\n", o.n, o.size, el.Seconds(), float64(o.n)/el.Seconds())
	if o.watch == "" {
		return nil
	}
	done, size, err := watch(o, start)
	if err != nil {
		return err
	}
	fmt.Printf("recv_done=%.3fs recv_rate=%.0f out_bytes=%d\n", done.Seconds(), float64(o.n)/done.Seconds(), size)
	return nil
}

// msgTemplate is one framed message; send overwrites the ten digits of
// its sequence number at buf[seq:] for each message.
type msgTemplate struct {
	buf []byte
	seq int
}

// template builds the message: the syslog header, "seq=NNNNNNNNNN ", and
// 'x' padding up to the size.
func template(o *options) (*msgTemplate, error) {
	now := time.Now().UTC()
	var head string
	switch o.format {
	case "3164":
		head = fmt.Sprintf("<13>%s %s synsend[%d]: ", now.Format(time.Stamp), o.host, os.Getpid())
	case "5424":
		head = fmt.Sprintf("<13>1 %s %s synsend %d - - ", now.Format("2006-01-02T15:04:05.000000Z"), o.host, os.Getpid())
	default:
		return nil, fmt.Errorf("-format %q: want 3164 or 5424", o.format)
	}
	msg := head + "seq=0000000000 "
	if len(msg) > o.size {
		return nil, fmt.Errorf("-size %d is below the %d-byte header", o.size, len(msg))
	}
	msg += strings.Repeat("x", o.size-len(msg))
	t := &msgTemplate{}
	if o.framing == "octet" {
		t.buf = strconv.AppendInt(t.buf, int64(len(msg)), 10)
		t.buf = append(t.buf, ' ')
	}
	t.seq = len(t.buf) + len(head) + len("seq=")
	t.buf = append(t.buf, msg...)
	if o.framing == "lf" {
		t.buf = append(t.buf, '\n')
	}
	return t, nil
}

// send writes every message over one connection through a large buffer.
func send(o *options, t *msgTemplate) error {
	conn, err := net.DialTimeout("tcp", o.addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	w := bufio.NewWriterSize(conn, o.bufSize)
	msg := t.buf
	for i := range o.n {
		putSeq(msg[t.seq:t.seq+10], i)
		if _, err := w.Write(msg); err != nil {
			return fmt.Errorf("writing message %d: %w", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("flushing: %w", err)
	}
	return nil
}

// putSeq writes v as ten zero-padded digits into d.
func putSeq(d []byte, v int) {
	for k := 9; k >= 0; k-- {
		d[k] = byte('0' + v%10)
		v /= 10
	}
}

// watch polls the output file until it has not grown for o.settle and
// returns when it last grew, counted from start, and its size.
func watch(o *options, start time.Time) (time.Duration, int64, error) {
	last, lastChange := int64(-1), time.Now()
	for {
		var size int64
		if st, err := os.Stat(o.watch); err == nil {
			size = st.Size()
		} else if !errors.Is(err, os.ErrNotExist) {
			return 0, 0, err
		}
		now := time.Now()
		switch {
		case size != last:
			last, lastChange = size, now
		case size > 0 && now.Sub(lastChange) > o.settle:
			return lastChange.Sub(start), size, nil
		case size == 0 && now.Sub(start) > o.maxWait:
			return 0, 0, fmt.Errorf("%s still empty after %v", o.watch, o.maxWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
