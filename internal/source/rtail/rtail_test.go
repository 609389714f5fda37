package rtail

import (
	"net"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

func newTestSource(t *testing.T, addr string) *Source {
	c := &Config{}
	c.Defaults()
	c.Address = addr
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "rtail"))
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

type decoded struct {
	Stream, Message string
	Millis          int64
	Fields          map[string]any
}

func TestDecode(t *testing.T) {
	s := newTestSource(t, "127.0.0.1:0")
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}
	for _, tc := range []struct {
		name, in string
		want     decoded
	}{
		{"string content", `{"id":"api","timestamp":1700000000123,"content":"GET / 200"}`,
			decoded{Stream: "api", Message: "GET / 200", Millis: 1700000000123}},
		{"object content", `{"id":"api","timestamp":1700000000000,"content":{"level":"info","n":2}}`,
			decoded{Stream: "api", Message: `{"level":"info","n":2}`, Millis: 1700000000000,
				Fields: map[string]any{"level": "info", "n": float64(2)}}},
		{"number content", `{"id":"x","timestamp":1700000000000,"content":42}`,
			decoded{Stream: "x", Message: "42", Millis: 1700000000000}},
		{"escapes and invalid utf8 kept", `{"id":"x","timestamp":1700000000000,"content":"tab\there \u00e9"}`,
			decoded{Stream: "x", Message: "tab\there é", Millis: 1700000000000}},
		{"not json", "plain line\xff", decoded{Stream: "127.0.0.1", Message: "plain line\xff"}},
		{"json without id", `{"content":"x"}`, decoded{Stream: "127.0.0.1", Message: `{"content":"x"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := s.decode([]byte(tc.in), from)
			got := decoded{Stream: e.Stream, Message: string(e.Message)}
			if tc.want.Millis != 0 {
				got.Millis = e.Timestamp.UnixMilli()
			}
			if len(e.Fields) > 0 {
				got.Fields = map[string]any{}
				for _, f := range e.Fields {
					got.Fields[f.Key] = f.Value.Any()
				}
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"a","timestamp":1,"content":"x"}`))
	f.Add([]byte(`{"id":"a","timestamp":-1e308,"content":{"k":[1,{"z":null}]}}`))
	f.Add([]byte("\x00\xff"))
	s := &Source{cfg: &Config{}, invalid: nopCounter{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := s.decode(data, nil)
		if len(e.Message) == 0 && len(data) > 0 && e.Stream == "" {
			t.Fatalf("lost the packet %q", data)
		}
	})
}

type nopCounter struct{}

func (nopCounter) Inc() {}

// TestReceive sends packets over loopback UDP and receives them as events.
func TestReceive(t *testing.T) {
	s := newTestSource(t, "127.0.0.1:0")
	col := &testutil.Collector{Notify: make(chan struct{}, 16)}
	testutil.StartSource(t, s, col.Emit)
	addr, err := s.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	want := []string{"one", "two", "three"}
	for _, m := range want {
		if _, err := conn.Write([]byte(`{"id":"s","timestamp":1700000000000,"content":"` + m + `"}`)); err != nil {
			t.Fatal(err)
		}
	}
	waitMessages(t, col, len(want))
	testutil.Diff(t, want, col.Messages())
	for _, e := range col.Events() {
		if e.Stream != "s" || !e.Timestamp.Equal(time.UnixMilli(1700000000000)) {
			t.Errorf("event %+v", e)
		}
	}
}

// waitMessages waits until col has n messages, or fails after 10s.
func waitMessages(t *testing.T, col *testutil.Collector, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for len(col.Messages()) < n {
		select {
		case <-col.Notify:
		case <-timeout:
			t.Fatalf("got %d messages, want %d", len(col.Messages()), n)
		}
	}
}
