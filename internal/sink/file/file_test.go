package file

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func config0(path string) *Config {
	c := &Config{}
	c.Defaults()
	c.Path = path
	c.Encoding = "text"
	return c
}

func mustSink(t *testing.T, cfg *Config) *Sink {
	t.Helper()
	s := newSink(testutil.Validated(t, cfg), testutil.Deps(t, "out"))
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

func ev(stream, msg string) event.Event {
	return event.Event{Timestamp: time.Date(2024, 3, 7, 23, 0, 0, 0, time.UTC), Stream: stream, Message: []byte(msg)}
}

func batch(events ...event.Event) *event.Batch { return &event.Batch{Events: events} }

func write(t *testing.T, s *Sink, events ...event.Event) {
	t.Helper()
	if err := s.Write(t.Context(), batch(events...)); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTemplatedPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := mustSink(t, config0(filepath.Join(dir, "{{ .stream }}", "%Y-%m-%d.log")))
	late := ev("api", "api 2")
	late.Timestamp = late.Timestamp.Add(2 * time.Hour) // next day in UTC
	write(t, s, ev("api", "api 1"), ev("web", "web 1"), late, ev("../../evil", "sneaky"))
	write(t, s, ev("api", "api 3"))
	want := map[string]string{
		"api/2024-03-07.log":        "api 1\napi 3\n",
		"api/2024-03-08.log":        "api 2\n",
		"web/2024-03-07.log":        "web 1\n",
		"______evil/2024-03-07.log": "sneaky\n",
	}
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got[rel] = readFile(t, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, want, got)
}

func TestEncodingsAndModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := config0(filepath.Join(dir, "a", "b", "out.log"))
	cfg.Encoding = "json"
	cfg.Fsync = true
	s := mustSink(t, cfg)
	write(t, s, ev("s", "hello\xff"))
	testutil.Diff(t, `{"timestamp":"2024-03-07T23:00:00.000000000Z","host":"","stream":"s","message":"hello\u00ff"}`+"\n",
		readFile(t, cfg.Path))
	old := umask()
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(dir, "a"), os.ModeDir | 0o755&^old},
		{filepath.Join(dir, "a", "b"), os.ModeDir | 0o755&^old},
		{cfg.Path, 0o644 &^ old},
	} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, tc.want, st.Mode(), nil)
	}
}

// umask reads the process umask from /proc without changing it.
func umask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o022
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			var m uint32
			for _, c := range strings.TrimSpace(v) {
				m = m*8 + uint32(c-'0')
			}
			return os.FileMode(m)
		}
	}
	return 0o022
}

func TestAppendsToExistingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.log")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustSink(t, config0(path))
	write(t, s, ev("s", "after"))
	testutil.Diff(t, "before\nafter\n", readFile(t, path))
}

func TestRotationByRename(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.log")
		s := mustSink(t, config0(path))
		write(t, s, ev("s", "one"))
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		// Within the check interval the open file is still used.
		write(t, s, ev("s", "two"))
		time.Sleep(statInterval)
		write(t, s, ev("s", "three"), ev("s", "four"))
		testutil.Diff(t, "one\ntwo\n", readFile(t, path+".1"))
		testutil.Diff(t, "three\nfour\n", readFile(t, path))

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(statInterval)
		write(t, s, ev("s", "five"))
		testutil.Diff(t, "five\n", readFile(t, path))
		_ = s.Close(t.Context())
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.log")
	s := mustSink(t, config0(path))
	write(t, s, ev("s", "old"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	s.Reopen()
	testutil.Diff(t, 0, openFiles(s))
	write(t, s, ev("s", "new"))
	testutil.Diff(t, "old\n", readFile(t, path+".1"))
	testutil.Diff(t, "new\n", readFile(t, path))
}

func openFiles(s *Sink) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := config0(filepath.Join(t.TempDir(), "{{ .stream }}.log"))
		cfg.IdleTimeout = config.Duration(30 * time.Second)
		s := mustSink(t, cfg)
		write(t, s, ev("a", "1"), ev("b", "1"))
		time.Sleep(20 * time.Second)
		write(t, s, ev("b", "2"))
		time.Sleep(20 * time.Second) // a idle 40s, b idle 20s
		synctest.Wait()
		testutil.Diff(t, 1, openFiles(s))
		time.Sleep(30 * time.Second)
		synctest.Wait()
		testutil.Diff(t, 0, openFiles(s))
		write(t, s, ev("a", "2"))
		testutil.Diff(t, "1\n2\n", readFile(t, cfg.Path[:len(cfg.Path)-len("{{ .stream }}.log")]+"a.log"))
		_ = s.Close(t.Context())
	})
}

func TestMaxOpenFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := config0(filepath.Join(dir, "{{ .stream }}.log"))
	cfg.MaxOpenFiles = 2
	s := mustSink(t, cfg)
	write(t, s, ev("a", "a1"), ev("b", "b1"), ev("c", "c1"), ev("a", "a2"), ev("d", "d1"))
	if n := openFiles(s); n > 2 {
		t.Errorf("%d files open, want at most 2", n)
	}
	write(t, s, ev("b", "b2"))
	for name, want := range map[string]string{"a": "a1\na2\n", "b": "b1\nb2\n", "c": "c1\n", "d": "d1\n"} {
		testutil.Diff(t, want, readFile(t, filepath.Join(dir, name+".log")))
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustSink(t, config0(filepath.Join(dir, "{{ .stream }}", "out.log")))

	err := s.Write(t.Context(), batch(ev("blocker", "x")))
	var rej *component.RejectError
	if err == nil || errors.As(err, &rej) {
		t.Fatalf("Write to an impossible path = %v, want a retryable error", err)
	}

	err = s.Write(t.Context(), batch(ev("blocker", "x"), ev("ok", "y"), ev("blocker", "z")))
	var part *component.PartialError
	if !errors.As(err, &part) {
		t.Fatalf("Write = %v, want a PartialError", err)
	}
	testutil.Diff(t, []component.Outcome{component.Retry, component.OK, component.Retry}, part.Outcomes)
	testutil.Diff(t, "y\n", readFile(t, filepath.Join(dir, "ok", "out.log")))
}

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	s := mustSink(t, config0(filepath.Join(t.TempDir(), "out.log")))
	write(t, s, ev("s", "x"))
	for range 2 {
		if err := s.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(t.Context(), batch(ev("s", "y"))); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close = %v, want errClosed", err)
	}
	s.Reopen() // harmless after Close
}

func TestConfig(t *testing.T) {
	t.Parallel()
	spec, ok := component.Lookup(component.KindSink, "file")
	if !ok {
		t.Fatal("file sink is not registered")
	}
	def := spec.NewConfig().(*Config)
	testutil.Diff(t, &Config{Encoding: "json", MaxOpenFiles: 256, IdleTimeout: config.Duration(30 * time.Second)}, def,
		cmpopts.IgnoreUnexported(Config{}))
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no path", func(c *Config) { c.Path = "" }, "path is required"},
		{"bad verb", func(c *Config) { c.Path = "/x/%Q" }, "unknown strftime verb"},
		{"bad encoding", func(c *Config) { c.Encoding = "xml" }, `unknown encoding "xml"`},
		{"no open files", func(c *Config) { c.MaxOpenFiles = 0 }, "max_open_files must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := spec.NewConfig().(*Config)
			c.Path = "/tmp/x.log"
			tc.edit(c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
