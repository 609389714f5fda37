package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Three batches of two lines; releasing them in different orders and with
// different statuses commits only the contiguous committable prefix, and a
// restart reads again exactly what was not committed.
func TestAckGating(t *testing.T) {
	lineLen := int64(len("l1\n"))
	for _, tc := range []struct {
		name    string
		release map[int]ack.Status
		commit  int64 // lines committed
	}{
		{"none released", nil, 0},
		{"all delivered", map[int]ack.Status{0: ack.Delivered, 1: ack.Delivered, 2: ack.Delivered}, 6},
		{"out of order: gap at first", map[int]ack.Status{1: ack.Delivered, 2: ack.Delivered}, 0},
		{"out of order: gap in the middle", map[int]ack.Status{2: ack.Delivered, 0: ack.Delivered}, 2},
		{"rejected and dropped commit", map[int]ack.Status{0: ack.Rejected, 1: ack.Dropped}, 4},
		{"abandoned never commits", map[int]ack.Status{0: ack.Delivered, 1: ack.Abandoned, 2: ack.Delivered}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				cfg := e.config(func(c *Config) { c.BatchLines = 2; c.ReadFrom = "beginning" })
				text, all := numbered("l", 1, 6)
				e.write("a.log", text)
				k := &tokens{}
				r := e.start(cfg, k.emit)
				step(time.Second)
				if k.len() != 3 {
					t.Fatalf("%d batches, want 3", k.len())
				}
				for i, s := range tc.release {
					k.release(i, s)
				}
				step(time.Second)
				testutil.Diff(t, map[string]int64{"a.log": tc.commit * lineLen}, e.checkpoint())
				r.cancel()
				// Run waits for the rest (waitMax is 1s in tests), then
				// gives up; the checkpoint stays.
				step(2 * time.Second)
				if err := r.wait(); err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					if _, ok := tc.release[i]; !ok {
						k.release(i, ack.Delivered) // late: must not move the saved checkpoint
					}
				}
				testutil.Diff(t, map[string]int64{"a.log": tc.commit * lineLen}, e.checkpoint())

				col := &testutil.Collector{}
				r = e.start(cfg, col.Emit)
				step(time.Second)
				r.stop(t)
				testutil.Diff(t, append([]string(nil), all[tc.commit:]...), col.Messages())
			})
		})
	}
}

// On cancellation Run waits for outstanding acknowledgements and returns
// as soon as the last one arrives, with the checkpoint written.
func TestShutdownWaitsForAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		col := &testutil.Collector{Hold: true}
		r := e.start(e.config(), col.Emit)
		r.src.waitMax = time.Hour
		step(time.Second)
		e.write("a.log", "x\ny\n")
		step(time.Second)
		r.cancel()
		step(time.Minute)
		select {
		case <-r.done:
			err := r.err
			t.Fatalf("Run returned before the acks: %v", err)
		default:
		}
		start := time.Now()
		col.Release(ack.Delivered)
		if err := r.wait(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 0 {
			t.Errorf("Run returned %v after the last ack", d)
		}
		testutil.Diff(t, map[string]int64{"a.log": 4}, e.checkpoint())
	})
}

// Nothing is emitted once the context is done: an emit that fails with
// the context's error leaves the lines uncommitted.
func TestNoEmitAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		text, all := numbered("l", 1, 4)
		e.write("a.log", text)
		ctx, cancel := context.WithCancel(context.Background())
		var emitted, afterCancel int
		emit := func(c context.Context, b *event.Batch) error {
			if c.Err() != nil {
				afterCancel++
				return c.Err()
			}
			emitted++
			cancel() // the pipeline shuts down right after the first batch
			b.Ack.Release(ack.Abandoned)
			return nil
		}
		s, err := New(testutil.Validated(t, e.config(func(c *Config) { c.BatchLines = 2; c.ReadFrom = "beginning" })), e.deps)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, emit); err != nil {
			t.Fatal(err)
		}
		if emitted != 1 || afterCancel != 0 {
			t.Errorf("emitted %d batches, %d after cancel", emitted, afterCancel)
		}
		testutil.Diff(t, map[string]int64{"a.log": 0}, e.checkpoint())
		col := &testutil.Collector{}
		r := e.start(e.config(), col.Emit)
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, all, col.Messages())
	})
}

// Without acknowledgements (the pipeline's AckOnEmit) the checkpoint moves
// when emit returns.
func TestAcknowledgementsOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		k := &tokens{}
		r := e.start(e.config(), component.AckOnEmit(k.emit))
		step(time.Second)
		e.write("a.log", "x\ny\n")
		step(time.Second)
		testutil.Diff(t, map[string]int64{"a.log": 4}, e.checkpoint())
		r.stop(t)
		for _, b := range k.batches {
			if b.Ack != nil {
				t.Error("batch carries an ack token without acknowledgements")
			}
		}
	})
}

// A checkpoint whose inode now holds other content (the inode was reused)
// is not resumed; one that still matches is.
func TestInodeReuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fpText string // what the checkpoint's fingerprint was taken over
		fpLen  int
		want   []string
	}{
		{"same content resumes", "line1\nline2\n", 12, []string{"line3"}},
		{"short fingerprint of same content resumes", "line1\n", 6, []string{"line3"}},
		{"other content starts over", "other\nfile\n", 11, []string{"line1", "line2", "line3"}},
		{"longer than the file starts over", "line1\nline2\nline3\nline4\n", 24, []string{"line1", "line2", "line3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.write("a.log", "line1\nline2\nline3\n")
				fi, err := os.Stat(e.path("a.log"))
				if err != nil {
					t.Fatal(err)
				}
				id := identity(fi)
				st := state{Version: stateVersion, Files: []entry{{Path: e.path("a.log"), Dev: id.Dev, Inode: id.Ino,
					FingerprintBytes: tc.fpLen, Fingerprint: hexSum(checksum([]byte(tc.fpText)[:tc.fpLen])), Offset: 12}}}
				data, _ := json.Marshal(st)
				if err := os.MkdirAll(e.deps.DataDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(e.deps.DataDir, checkpointFile), data, 0o600); err != nil {
					t.Fatal(err)
				}
				col := &testutil.Collector{}
				r := e.start(e.config(func(c *Config) { c.FingerprintBytes = 12 }), col.Emit)
				step(time.Second)
				r.stop(t)
				testutil.Diff(t, tc.want, col.Messages())
			})
		})
	}
}

// A real reused inode: with one descriptor allowed, the file is closed
// while idle; it is deleted and another created, which on most file
// systems gets the same inode number.
func TestInodeReuseLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		e.write("z.log", "")
		col := &testutil.Collector{}
		r := e.start(e.config(func(c *Config) { c.MaxOpenFiles = 1; c.FingerprintBytes = 8 }), col.Emit)
		step(time.Second)
		e.write("a.log", "aaaaaaaa-old-1\n")
		step(time.Second)
		e.write("z.log", "z\n") // takes the only descriptor
		step(time.Second)
		fi, _ := os.Stat(e.path("a.log"))
		if err := os.Remove(e.path("a.log")); err != nil {
			t.Fatal(err)
		}
		e.write("a.log", "bbbbbbbb-new-1\nbbbbbbbb-new-2\n")
		fi2, _ := os.Stat(e.path("a.log"))
		if identity(fi) != identity(fi2) {
			r.stop(t)
			t.Skip("the file system did not reuse the inode")
		}
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, map[string][]string{
			"a.log": {"aaaaaaaa-old-1", "bbbbbbbb-new-1", "bbbbbbbb-new-2"},
			"z.log": {"z"},
		}, perStream(col))
	})
}
