package lines

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

type piece struct {
	Line string
	Long bool
}

func readAll(r *Reader) (out []piece) {
	for {
		line, long, err := r.Next()
		if err != nil {
			if l, ok := r.Flush(); ok {
				out = append(out, piece{string(l), false})
			}
			return out
		}
		out = append(out, piece{string(line), long})
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		mode Mode
		want []piece
	}{
		{"simple", "a\nbb\n\nccc\n", 10, Split, []piece{{"a", false}, {"bb", false}, {"", false}, {"ccc", false}}},
		{"partial last line flushed", "a\nrest", 10, Split, []piece{{"a", false}, {"rest", false}}},
		{"crlf kept", "a\r\n", 10, Split, []piece{{"a\r", false}}},
		{"split long", "abcdefgh\nxy\n", 3, Split, []piece{{"abc", true}, {"def", true}, {"gh", false}, {"xy", false}}},
		{"truncate long", "abcdefgh\nxy\n", 3, Truncate, []piece{{"abc", true}, {"xy", false}}},
		{"exact max", "abc\n", 3, Split, []piece{{"abc", false}}},
		{"nul and invalid utf8", "a\x00\xff\n", 10, Split, []piece{{"a\x00\xff", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), tc.max, tc.mode)
			testutil.Diff(t, tc.want, readAll(r))
			if r.Offset() != int64(len(tc.in)) {
				t.Errorf("offset %d, want %d", r.Offset(), len(tc.in))
			}
		})
	}
}

// TestTailing appends to the source between calls, as a file tailer sees it.
func TestTailing(t *testing.T) {
	var src bytes.Buffer
	r := NewReader(&src, 100, Split)
	src.WriteString("one\ntw")
	line, _, err := r.Next()
	if string(line) != "one" || err != nil {
		t.Fatalf("got %q, %v", line, err)
	}
	if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("want EOF with partial line kept, got %v", err)
	}
	if r.Offset() != 4 || r.Buffered() != 2 {
		t.Fatalf("offset %d buffered %d", r.Offset(), r.Buffered())
	}
	src.WriteString("o\n")
	line, _, err = r.Next()
	if string(line) != "two" || err != nil {
		t.Fatalf("got %q, %v", line, err)
	}
	if r.Offset() != 8 {
		t.Fatalf("offset %d", r.Offset())
	}
}

// TestMaxLineSplitAcrossReads: a line of exactly max bytes whose newline
// comes with the next read is one ordinary line, not a long one.
func TestMaxLineSplitAcrossReads(t *testing.T) {
	r := NewReader(io.MultiReader(strings.NewReader("abc"), strings.NewReader("\nx\n")), 3, Split)
	testutil.Diff(t, []piece{{"abc", false}, {"x", false}}, readAll(r))
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nbb\nccc"), 2, false)
	f.Add([]byte("\n\n\n"), 1, true)
	f.Fuzz(func(t *testing.T, data []byte, max int, truncate bool) {
		if max <= 0 || max > 1<<16 {
			return
		}
		mode := Split
		if truncate {
			mode = Truncate
		}
		r := NewReader(bytes.NewReader(data), max, mode)
		var total int
		for _, p := range readAll(r) {
			if len(p.Line) > max {
				t.Fatalf("line of %d bytes exceeds max %d", len(p.Line), max)
			}
			total += len(p.Line)
		}
		if r.Offset() != int64(len(data)) {
			t.Fatalf("offset %d, want %d", r.Offset(), len(data))
		}
		if mode == Split && total != len(data)-bytes.Count(data, []byte("\n")) {
			t.Fatalf("split mode lost bytes: %d of %d", total, len(data))
		}
	})
}

func BenchmarkReader(b *testing.B) {
	line := strings.Repeat("x", 199) + "\n"
	data := []byte(strings.Repeat(line, 5000))
	rd := bytes.NewReader(data)
	r := NewReader(rd, 1<<20, Split)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(data)
		r.Reset(rd, 0)
		for {
			if _, _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
