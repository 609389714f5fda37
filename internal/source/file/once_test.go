package file

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Once mode reads every file from its checkpoint (or beginning) to its end,
// partial last lines and pending records included, waits for the
// acknowledgements and returns by itself.
func TestOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.deps.Once = true
		e.write("a.log", "a1\na2\npartial")
		e.write("b.log", "B\n b-cont\n")
		col := &testutil.Collector{Hold: true}
		cfg := e.config(func(c *Config) { c.ReadFrom = "end"; c.Multiline.StartPattern = `^\S` })
		r := e.start(cfg, col.Emit)
		step(time.Minute)
		select {
		case <-r.done:
			t.Fatal("Run returned before the acknowledgements")
		default:
		}
		col.Release(ack.Delivered)
		if err := r.wait(); err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, map[string][]string{"a.log": {"a1", "a2", "partial"}, "b.log": {"B\n b-cont"}}, perStream(col))
		testutil.Diff(t, map[string]int64{"a.log": 13, "b.log": 10}, e.checkpoint())

		// A second once run reads only what was added since.
		e.write("a.log", "\nmore\n")
		col2 := &testutil.Collector{}
		r = e.start(e.config(), col2.Emit)
		if err := r.wait(); err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, []string{"", "more"}, col2.Messages())
	})
}

// Thousands of files are read completely by a fixed number of goroutines,
// with fewer descriptors than files.
func TestManyFiles(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		var want []string
		for i := range n {
			name := fmt.Sprintf("f%04d.log", i)
			e.write(name, "")
			want = append(want, name+" 1", name+" 2")
		}
		before := runtime.NumGoroutine()
		var mu sync.Mutex
		var got []string
		maxGoroutines, maxFDs := 0, 0
		emit := func(_ context.Context, b *event.Batch) error {
			mu.Lock()
			for _, ev := range b.Events {
				got = append(got, string(ev.Message))
			}
			maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
			maxFDs = max(maxFDs, len(openFDs(t)))
			mu.Unlock()
			b.Ack.Release(ack.Delivered)
			return nil
		}
		r := e.start(e.config(func(c *Config) {
			c.MaxOpenFiles = n / 4
			c.GlobInterval = cfgDur(500 * time.Millisecond)
			c.PollInterval = cfgDur(100 * time.Millisecond)
		}), emit)
		step(time.Second)
		for i := range n {
			name := fmt.Sprintf("f%04d.log", i)
			e.write(name, name+" 1\n")
		}
		step(time.Second)
		for i := range n {
			name := fmt.Sprintf("f%04d.log", i)
			e.write(name, name+" 2\n")
		}
		step(2 * time.Second)
		r.stop(t)
		sort.Strings(got)
		testutil.Diff(t, want, got)
		if d := maxGoroutines - before; d > 3 {
			t.Errorf("%d extra goroutines while reading %d files", d, n)
		}
		if maxFDs > n/4+20 {
			t.Errorf("%d descriptors open, max_open_files is %d", maxFDs, n/4)
		}
	})
}

// openFDs lists the process's open descriptors (Linux only).
func openFDs(t *testing.T) []os.DirEntry {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return ents
}
