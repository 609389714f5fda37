package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// benchRead reads a 100k-line file (about 12 MB) through the source in
// once mode into an emit that acknowledges at once, and reports bytes per
// second and allocations per line.
func benchRead(b *testing.B, mod func(*Config)) {
	e := newEnv(b)
	line := `127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "Mozilla/4.08"` + "\n"
	const lines = 100_000
	e.write("big.log", strings.Repeat(line, lines))
	cfg := e.config(mod)
	deps := e.deps
	deps.Once = true
	emit := func(_ context.Context, bt *event.Batch) error {
		bt.Ack.Release(ack.Delivered)
		return nil
	}
	b.SetBytes(int64(len(line) * lines))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	n := 0
	for b.Loop() {
		// The first run finds no checkpoint to remove.
		if err := os.Remove(filepath.Join(deps.DataDir, checkpointFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			b.Fatal(err)
		}
		s, err := New(testutil.Validated(b, cfg), deps)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Run(context.Background(), component.Emit(emit)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(n*lines), "allocs/line")
}

func BenchmarkReadFile(b *testing.B) { benchRead(b, func(*Config) {}) }

func BenchmarkReadFileWithField(b *testing.B) {
	benchRead(b, func(c *Config) { c.FileField = "file" })
}

func BenchmarkReadFileMultiline(b *testing.B) {
	benchRead(b, func(c *Config) { c.Multiline.StartPattern = `^\d` })
}
