package syslog

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
)

var seeds = []string{
	`<13>1 2026-11-22T03:23:15.369816+00:00 vm TAG - - [timeQuality tzKnown="1" isSynced="0"] msg1`,
	`<13>1 2026-11-22T03:23:15.381140+00:00 vm TAG - ID [timeQuality tzKnown="1" isSynced="0"][x@32473 k="v\]q"] msg4`,
	`<133>1 2026-11-22T02:31:24.677754+00:00 vm app - - - line-from-imfile-ok`,
	`<13>1 2026-11-22T02:32:06+00:00 vm app - - [meta sequenceId="1"] file-line-ok`,
	"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed",
	`<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time`,
	`<0>1 - - - - - -`,
	`<13>Nov 22 02:33:01 vm TAG: msg`,
	`<13>Nov 22 03:23:15 vm TAG[13113]: msg5`,
	`<190>Nov 22 02:33:42 vm nginx: 127.0.0.1 - - [22/Nov/2026:02:33:42 +0000] "GET / HTTP/1.1" 200 10 "-" "curl/7.88.1"`,
	`<13>Nov 22 03:23:18 TAG[13159]: msg9`,
	`<13>2026-11-22T02:31:24.677754+00:00 vm app: msg`,
	`<34>Oct  1 22:14:15 mymachine su: 'su root' failed`,
	`<13>Nov 22 2025 02:33:42 host app: msg`,
	`<13>myapp: hello`,
	"not syslog \x00\xff",
}

// within reports whether sub lies inside whole's memory.
func within(sub, whole []byte) bool {
	if len(sub) == 0 {
		return true
	}
	s, w := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(unsafe.SliceData(whole)))
	return s >= w && s+uintptr(len(sub)) <= w+uintptr(len(whole))
}

func spaceFree(t *testing.T, name string, b []byte) {
	t.Helper()
	if b != nil && (len(b) == 0 || bytes.IndexFunc(b, func(r rune) bool { return r <= ' ' }) >= 0) {
		t.Fatalf("%s %q is empty or has spaces", name, b)
	}
}

var fuzzNow = time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)

func FuzzRFC5424(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var m Message
		if !ParseRFC5424(in, &m, time.UTC) {
			return
		}
		for _, p := range [][]byte{m.Hostname, m.AppName, m.ProcID, m.MsgID} {
			spaceFree(t, "header field", p)
		}
		if !within(m.Msg, in) || !within(m.StructuredData, in) {
			t.Fatal("parts do not point into the input")
		}
		// Decoding, encoding and decoding again reaches a fixed point at once,
		// and keeps the message bytes and priority.
		var d Decoder
		var e1, e2, e3 event.Event
		d.Decode(in, fuzzNow, "fallback", &e1)
		d.Decode(AppendRFC5424(nil, &e1, nil), fuzzNow, "fallback", &e2)
		d.Decode(AppendRFC5424(nil, &e2, nil), fuzzNow, "fallback", &e3)
		if !bytes.Equal(e1.Message, e2.Message) || !bytes.Equal(e1.Message, m.Msg) {
			t.Fatalf("message changed: %q -> %q", e1.Message, e2.Message)
		}
		if diff := cmpDiff(e2, e3); diff != "" {
			t.Fatalf("no fixed point (-first +second):\n%s", diff)
		}
		if fa, fb := text(e1.Fields, FieldFacility)+text(e1.Fields, FieldSeverity), text(e2.Fields, FieldFacility)+text(e2.Fields, FieldSeverity); fa != fb {
			t.Fatalf("priority changed: %s -> %s", fa, fb)
		}
	})
}

func FuzzRFC3164(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var m Message
		ok := ParseRFC3164(in, &m, time.UTC, fuzzNow)
		if _, _, pri := parsePRI(in); ok != pri {
			t.Fatalf("ParseRFC3164 = %v but PRI valid = %v", ok, pri)
		}
		if !ok {
			return
		}
		spaceFree(t, "hostname", m.Hostname)
		spaceFree(t, "tag", m.AppName)
		spaceFree(t, "pid", m.ProcID)
		if !within(m.Msg, in) || m.Msg == nil {
			t.Fatal("message does not point into the input")
		}
		if m.ProcID != nil && m.AppName == nil {
			t.Fatal("pid without tag")
		}
		_, i, _ := parsePRI(in)
		if st, _, ok := parseBSDStamp(in, i); ok && st.year == 0 && !m.Timestamp.IsZero() {
			if m.Timestamp.After(fuzzNow.Add(FutureSlack)) || m.Timestamp.Before(fuzzNow.AddDate(-9, 0, 0)) {
				t.Fatalf("inferred year puts %v too far from %v", m.Timestamp, fuzzNow)
			}
		}
	})
}

func FuzzDetect(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d Decoder
		var ev event.Event
		format := d.Decode(in, fuzzNow, "fallback", &ev)
		last := ev.Fields[len(ev.Fields)-1]
		if last.Key != FieldFormat || last.Value.Str() != format.String() {
			t.Fatalf("last field = %v, want syslog_format %v", last, format)
		}
		switch {
		case format == FormatRaw && !bytes.Equal(ev.Message, in):
			t.Fatalf("raw message %q is not the frame", ev.Message)
		case !bytes.HasSuffix(in, ev.Message):
			t.Fatalf("message %q is not the end of the frame", ev.Message)
		case ev.Host == "" || ev.Stream == "" || ev.Timestamp.IsZero():
			t.Fatalf("host %q, stream %q or timestamp missing", ev.Host, ev.Stream)
		}
	})
}

// framesOf reads every frame of in through the given chunking.
func framesOf(in []byte, maxSize int, wrap func(io.Reader) io.Reader) (frames []string, truncated, short int, err error) {
	r := NewReader(wrap(bytes.NewReader(in)), maxSize)
	for range len(in) + 1 {
		var f []byte
		if f, err = r.Next(); err != nil {
			break
		}
		frames = append(frames, string(f))
	}
	return frames, r.Truncated, r.Short, err
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint16(64))
	f.Add([]byte("6 <13>ab<13>1 x\n3 <1>c\n"), uint16(8))
	f.Add([]byte("999999999 <13>x\n"), uint16(100))
	f.Add([]byte("0123456789abc\nxy\n12"), uint16(8))
	f.Fuzz(func(t *testing.T, in []byte, maxSize uint16) {
		size := int(maxSize%512) + 1
		whole, tw, sw, ew := framesOf(in, size, func(r io.Reader) io.Reader { return r })
		for _, fr := range whole {
			if len(fr) == 0 || len(fr) > size {
				t.Fatalf("frame of %d bytes, max %d", len(fr), size)
			}
		}
		for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader} {
			got, tg, sg, eg := framesOf(in, size, wrap)
			if !slices.Equal(whole, got) || tw != tg || sw != sg || (ew == nil) != (eg == nil) {
				t.Fatalf("chunking changed the frames: %q (%d, %d, %v) vs %q (%d, %d, %v)", whole, tw, sw, ew, got, tg, sg, eg)
			}
		}
	})
}

// FuzzReaderRoundTrip frames messages (split from the input at '|') with
// mixed framings and checks that the reader gives them back.
func FuzzReaderRoundTrip(f *testing.F) {
	f.Add([]byte("a|b\nc|\x00|12 x"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, octetMask uint8) {
		var stream []byte
		var want []string
		for i, part := range bytes.Split(in, []byte("|")) {
			msg := append([]byte("<13>"), part...)
			if octetMask&(1<<(i%8)) != 0 || bytes.IndexByte(msg, '\n') >= 0 {
				stream = append(stream, []byte(itoa(len(msg)))...)
				stream = append(stream, ' ')
				stream = append(stream, msg...)
			} else {
				stream = append(append(stream, msg...), '\n')
			}
			// One trailing LF inside an octet count is dropped, as
			// rsyslog and syslog-ng do.
			want = append(want, strings.TrimSuffix(string(msg), "\n"))
		}
		got, truncated, short, err := framesOf(stream, 1<<16, iotest.HalfReader)
		if err != io.EOF || truncated != 0 || short != 0 || !slices.Equal(want, got) {
			t.Fatalf("stream %q: got %q (%d truncated, %d short, %v), want %q", stream, got, truncated, short, err, want)
		}
	})
}
