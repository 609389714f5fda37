package stdout

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func batch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Events = append(b.Events, event.Event{Timestamp: time.Unix(1, 0), Host: "h", Stream: "s", Message: []byte(m)})
	}
	return b
}

func TestWriteEncodings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, encoding, want string
	}{
		{"default json", "", `{"timestamp":"1970-01-01T00:00:01.000000000Z","host":"h","stream":"s","message":"a"}` + "\n" +
			`{"timestamp":"1970-01-01T00:00:01.000000000Z","host":"h","stream":"s","message":"b c"}` + "\n"},
		{"text", "text", "a\nb c\n"},
		{"logfmt", "logfmt", "timestamp=1970-01-01T00:00:01.000000000Z host=h stream=s message=a\n" +
			"timestamp=1970-01-01T00:00:01.000000000Z host=h stream=s message=\"b c\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testutil.NewConfig(t, func(c *Config) {
				if tc.encoding != "" {
					c.Encoding = tc.encoding
				}
			})
			var out bytes.Buffer
			s := newSink(cfg, &out)
			if err := s.Write(t.Context(), batch("a", "b c")); err != nil {
				t.Fatal(err)
			}
			// Flushed at the end of Write: visible without Close.
			testutil.Diff(t, tc.want, out.String())
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnknownEncoding(t *testing.T) {
	t.Parallel()
	cfg := &Config{Encoding: "xml"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `unknown encoding "xml"`) {
		t.Errorf("Validate() = %v, want unknown encoding", err)
	}
}

// flaky fails its first write, then works.
type flaky struct {
	bytes.Buffer
	fails int
}

func (f *flaky) Write(p []byte) (int, error) {
	if f.fails > 0 {
		f.fails--
		return 0, errors.New("broken pipe")
	}
	return f.Buffer.Write(p)
}

func TestWriteErrorIsNotSticky(t *testing.T) {
	t.Parallel()
	out := &flaky{fails: 1}
	s := newSink(textConfig(t), out)
	if err := s.Write(t.Context(), batch("lost")); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("first Write = %v, want broken pipe", err)
	}
	if err := s.Write(t.Context(), batch("x", "y")); err != nil {
		t.Fatalf("second Write = %v", err)
	}
	testutil.Diff(t, "x\ny\n", out.String())
}

func TestLargeBatchAndClose(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := newSink(textConfig(t), &out)
	big := strings.Repeat("x", bufferSize*2)
	if err := s.Write(t.Context(), batch(big, "tail")); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, big+"\ntail\n", out.String())
	for range 2 {
		if err := s.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := s.Write(t.Context(), batch("late")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func textConfig(t *testing.T) *Config {
	return testutil.NewConfig(t, func(c *Config) { c.Encoding = "text" })
}
