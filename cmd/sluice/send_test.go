package main

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// collect runs readLines over in and returns the messages and the echo.
func collect(t testing.TB, in string, max int) (msgs []string, echo string, st sendStats) {
	var out bytes.Buffer
	err := readLines(strings.NewReader(in), &out, max, func(b []byte) { msgs = append(msgs, string(b)) }, &st)
	if err != nil {
		t.Fatal(err)
	}
	return msgs, out.String(), st
}

func TestReadLines(t *testing.T) {
	t.Parallel()
	m := SplitMarker
	for _, tc := range []struct {
		name, in string
		max      int
		want     []string
		split    int
	}{
		{"lines", "a\nbb\n\nccc\n", 16, []string{"a", "bb", "", "ccc"}, 0},
		{"no newline at the end", "a\nlast", 16, []string{"a", "last"}, 0},
		{"CR kept, dates untouched", "2024-01-02T03:04:05Z x\r\n", 64, []string{"2024-01-02T03:04:05Z x\r"}, 0},
		{"exactly max", strings.Repeat("x", 16) + "\n", 16, []string{strings.Repeat("x", 16)}, 0},
		{"split", strings.Repeat("x", 40) + "\ny\n", 16,
			[]string{strings.Repeat("x", 16) + m, strings.Repeat("x", 16) + m, strings.Repeat("x", 8), "y"}, 1},
		{"split at EOF on a boundary", strings.Repeat("x", 32), 16,
			[]string{strings.Repeat("x", 16) + m, strings.Repeat("x", 16)}, 1},
		{"split keeps runes whole", strings.Repeat("é", 10) + "\n", 16,
			[]string{strings.Repeat("é", 8) + m, strings.Repeat("é", 2)}, 1},
		{"empty input", "", 16, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msgs, echo, st := collect(t, tc.in, tc.max)
			testutil.Diff(t, tc.want, msgs)
			testutil.Diff(t, tc.in, echo)
			testutil.Diff(t, tc.split, st.split)
		})
	}
}

func TestRelayURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ws://127.0.0.1:9582":          "ws://127.0.0.1:9582/relay",
		"https://logs.example:9582/":   "wss://logs.example:9582/relay",
		"wss://hub/custom":             "wss://hub/custom",
		"http://127.0.0.1:9582/relay2": "ws://127.0.0.1:9582/relay2",
	} {
		got, err := relayURL(in)
		if err != nil || got != want {
			t.Errorf("relayURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "ws://", "::"} {
		if _, err := relayURL(bad); err == nil {
			t.Errorf("relayURL(%q) accepted", bad)
		}
	}
}

// FuzzReadLines: whatever the input, the echo is the input, no message
// (without its marker) exceeds max plus one UTF-8 sequence, and the
// messages rebuild the input's lines.
func FuzzReadLines(f *testing.F) {
	for _, s := range []string{"", "a\nb", "é\xff\n\r\n", strings.Repeat("é", 20), strings.Repeat("x", 100) + "\n"} {
		f.Add(s, uint8(16))
	}
	f.Fuzz(func(t *testing.T, in string, max uint8) {
		m := int(max)%64 + 16
		var msgs []string
		var out bytes.Buffer
		var st sendStats
		if err := readLines(strings.NewReader(in), &out, m, func(b []byte) { msgs = append(msgs, string(b)) }, &st); err != nil {
			t.Fatal(err)
		}
		if out.String() != in {
			t.Fatal("echo differs from the input")
		}
		var rebuilt strings.Builder
		for _, s := range msgs {
			body, marked := strings.CutSuffix(s, SplitMarker)
			if len(body) > m {
				t.Fatalf("message of %d bytes, max %d", len(body), m)
			}
			rebuilt.WriteString(body)
			if !marked {
				rebuilt.WriteByte('\n')
			}
		}
		want := in
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if rebuilt.String() != want && !strings.Contains(in, SplitMarker) {
			t.Fatalf("rebuilt %q, want %q", rebuilt.String(), want)
		}
	})
}

// BenchmarkReadLines: reading, echoing and carving 100-byte lines.
func BenchmarkReadLines(b *testing.B) {
	line := strings.Repeat("x", 99) + "\n"
	in := strings.Repeat(line, 10000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var st sendStats
	for b.Loop() {
		if err := readLines(strings.NewReader(in), io.Discard, 256<<10, func([]byte) {}, &st); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSendUnreachable: with nothing listening, send gives up after
// --timeout with exit 2 and says why.
func TestSendUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var stdout, stderr bytes.Buffer
	o := &sendOptions{server: "ws://" + addr, stream: "s", mute: true, timeout: 500 * time.Millisecond, maxLine: 1024}
	testutil.Diff(t, 2, runSend(t.Context(), o, strings.NewReader("a\n"), &stdout, &stderr))
	if !strings.Contains(stderr.String(), "giving up after 500ms") || !strings.Contains(stderr.String(), "connection refused") {
		t.Errorf("stderr %q", stderr.String())
	}
}
