package syslog

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sluice-log/sluice/internal/testutil"
)

// readAll reads frames until an error and returns them with the error.
func readAll(t testing.TB, r *Reader) ([]string, error) {
	t.Helper()
	var frames []string
	for range 1 << 20 {
		f, err := r.Next()
		if err != nil {
			if f != nil {
				t.Errorf("Next returned a frame together with error %v", err)
			}
			return frames, err
		}
		if len(f) == 0 {
			t.Errorf("Next returned an empty frame")
		}
		frames = append(frames, string(f))
	}
	t.Fatal("reader did not end")
	return nil, nil
}

func TestReader(t *testing.T) {
	t.Parallel()
	logger := `<13>1 2026-11-22T03:23:15.369816+00:00 vm TAG - - [timeQuality tzKnown="1" isSynced="0"] msg`
	for _, tc := range []struct {
		name      string
		in        string
		max       int
		splitNUL  bool
		want      []string
		truncated int
		short     int
		err       error
	}{
		{name: "lines", in: "a\nb\n", want: []string{"a", "b"}},
		{name: "octet counted back to back", in: itoa(len(logger)) + " " + logger + itoa(len(logger)) + " " + logger, want: []string{logger, logger}},
		{name: "mixed on one connection", in: "6 <13>ab<13>1 x\n3 <1>c\n", want: []string{"<13>ab", "<13>1 x", "<1>", "c"}},
		{name: "octet frame may hold a newline", in: "7 <1>a\nbc\n", want: []string{"<1>a\nbc"}},
		{name: "crlf keeps the cr", in: "a\r\nb\r\n", want: []string{"a\r", "b\r"}},
		{name: "empty lines skipped", in: "\n\na\n\n", want: []string{"a"}},
		{name: "digits then text is a line", in: "123 hello\n", want: []string{"123 hello"}},
		{name: "only digits", in: "12\n", want: []string{"12"}},
		{name: "leading zero is a line", in: "0 <13>x\n", want: []string{"0 <13>x"}},
		{name: "digits at end of stream", in: "12", want: []string{"12"}},
		{name: "digits and space at end of stream", in: "12 ", want: []string{"12 "}},
		{name: "many digits are a line", in: strings.Repeat("9", 30) + " <1>\n", want: []string{strings.Repeat("9", 30) + " <1>"}},
		{name: "unterminated last line", in: "a\nb", want: []string{"a", "b"}},
		{name: "short octet frame at end", in: "10 <13>ab", want: []string{"<13>ab"}, short: 1},
		{name: "short octet frame after whole ones", in: "5 <13>a5 <13>b300 <13>" + strings.Repeat("x", 56), want: []string{"<13>a", "<13>b", "<13>" + strings.Repeat("x", 56)}, short: 1},
		{name: "whole octet frame at end is not short", in: "5 <13>a", want: []string{"<13>a"}},
		{name: "nul and invalid utf8 kept", in: "a\x00b\xff\xfe\n", want: []string{"a\x00b\xff\xfe"}},
		{name: "nul splits on unix streams", in: "<13>a\x00<13>b\x00", splitNUL: true, want: []string{"<13>a", "<13>b"}},
		{name: "exactly max", in: "01234567\nx\n", max: 8, want: []string{"01234567", "x"}},
		{name: "line over max truncated", in: "0123456789abc\nxy\n", max: 8, want: []string{"01234567", "xy"}, truncated: 1},
		{name: "line one over max", in: "012345678\nxy\n", max: 8, want: []string{"01234567", "xy"}, truncated: 1},
		{name: "unterminated line over max", in: "0123456789abc", max: 8, want: []string{"01234567"}, truncated: 1},
		{name: "absurd octet count", in: "a\n999999999 <13>x\nb\n", max: 64 << 10, want: []string{"a"}, err: ErrFrameTooLarge},
		{name: "octet count one over max", in: "9 <13>abcde\n", max: 8, err: ErrFrameTooLarge},
		{name: "octet count at max", in: "8 <13>abcd", max: 8, want: []string{"<13>abcd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.max == 0 {
				tc.max = 64 << 10
			}
			if tc.err == nil {
				tc.err = io.EOF
			}
			for _, chunking := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"one byte", iotest.OneByteReader},
				{"half", iotest.HalfReader},
				{"data with EOF", iotest.DataErrReader},
			} {
				r := NewReader(chunking.wrap(strings.NewReader(tc.in)), tc.max)
				r.SplitNUL = tc.splitNUL
				got, err := readAll(t, r)
				if !errors.Is(err, tc.err) {
					t.Errorf("%s: error = %v, want %v", chunking.name, err, tc.err)
				}
				testutil.Diff(t, tc.want, got)
				if r.Truncated != tc.truncated {
					t.Errorf("%s: Truncated = %d, want %d", chunking.name, r.Truncated, tc.truncated)
				}
				if r.Short != tc.short {
					t.Errorf("%s: Short = %d, want %d", chunking.name, r.Short, tc.short)
				}
			}
		})
	}
}

func TestReaderHugeLine(t *testing.T) {
	t.Parallel()
	const maxSize = 64 << 10
	huge := bytes.Repeat([]byte("x"), 1<<20)
	in := append(append([]byte("<13>first\n"), huge...), "\n<13>after\n"...)
	r := NewReader(bytes.NewReader(in), maxSize)
	got, err := readAll(t, r)
	if err != io.EOF {
		t.Fatalf("error = %v", err)
	}
	if len(got) != 3 || got[0] != "<13>first" || len(got[1]) != maxSize || got[2] != "<13>after" {
		t.Fatalf("got %d frames, lengths %v", len(got), lens(got))
	}
	if r.Truncated != 1 {
		t.Errorf("Truncated = %d, want 1", r.Truncated)
	}
	if len(r.buf) > maxSize+64 {
		t.Errorf("buffer grew to %d bytes, beyond the maximum frame", len(r.buf))
	}
}

func lens(s []string) []int {
	var out []int
	for _, x := range s {
		out = append(out, len(x))
	}
	return out
}

func TestReaderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("a\nbc"), iotest.ErrReader(boom)), 1024)
	got, err := readAll(t, r)
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want boom", err)
	}
	testutil.Diff(t, []string{"a", "bc"}, got)
}

func TestReaderBuffered(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("a\nb\n"), 1024)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if r.Buffered() != 2 {
		t.Errorf("Buffered = %d, want 2", r.Buffered())
	}
}

// TestOctetFrameDropsTrailingLF: rsyslog (RSYSLOG_SyslogProtocol23Format)
// and syslog-ng's syslog() driver put a LF inside the octet count.
func TestOctetFrameDropsTrailingLF(t *testing.T) {
	msg := "<13>1 2026-11-22T10:00:00Z h app - - - hello\n"
	r := NewReader(strings.NewReader(strconv.Itoa(len(msg))+" "+msg), 1024)
	frame, err := r.Next()
	if err != nil || string(frame) != strings.TrimSuffix(msg, "\n") {
		t.Fatalf("frame %q, %v", frame, err)
	}
}
