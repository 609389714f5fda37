package file

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxWatchedDirs bounds the inotify watches: one per directory, never one
// per file.
const maxWatchedDirs = 256

// notifier wakes the reading goroutine when something changes in a watched
// directory, so new lines are read without waiting for the next poll. It
// only speeds things up: polling alone is correct.
type notifier struct {
	w        *fsnotify.Watcher
	names    chan string
	wake     chan struct{}
	overflow atomic.Bool
	rescan   atomic.Bool
	dirs     map[string]bool
	done     chan struct{}
}

// startNotify starts watching directories if the config asks for it.
func (t *tailer) startNotify() {
	if !t.cfg.WatchDirectories {
		return
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.log.Warn("directory notifications unavailable; polling only", "error", err)
		return
	}
	n := &notifier{w: w, names: make(chan string, 1024), wake: make(chan struct{}, 1),
		dirs: map[string]bool{}, done: make(chan struct{})}
	go n.forward()
	t.notify = n
	t.watchDirs()
}

func (n *notifier) forward() {
	defer close(n.done)
	for {
		select {
		case ev, ok := <-n.w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) {
				n.rescan.Store(true)
			}
			select {
			case n.names <- ev.Name:
			default:
				n.overflow.Store(true)
			}
		case _, ok := <-n.w.Errors:
			if !ok {
				return
			}
			n.overflow.Store(true) // events were lost: check everything
		}
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
}

// wakeup is the channel that signals a notification; nil without notifier.
func (n *notifier) wakeup() <-chan struct{} {
	if n == nil {
		return nil
	}
	return n.wake
}

func (n *notifier) close() {
	if n == nil {
		return
	}
	// Closing at shutdown a watcher that only hastens reading (polling
	// alone is correct): an error here leaves nothing to act on.
	_ = n.w.Close()
	<-n.done
}

// watchDirs watches the directories of the followed files and the fixed
// directories of the include patterns, so new files are noticed too.
func (t *tailer) watchDirs() {
	if t.notify == nil {
		return
	}
	for _, p := range t.cfg.Include {
		if d := filepath.Dir(p); !strings.ContainsAny(d, `*?[\`) {
			t.watch(d)
		}
	}
	for f := range t.files {
		if f.cur != "" {
			t.watch(filepath.Dir(f.cur))
		}
	}
}

func (t *tailer) watch(dir string) {
	n := t.notify
	if n.dirs[dir] || len(n.dirs) >= maxWatchedDirs {
		return
	}
	n.dirs[dir] = true // also on failure: do not retry every scan
	if err := n.w.Add(dir); err != nil {
		t.log.Debug("not watching directory", "dir", dir, "error", err)
	}
}

// drainNotify takes in the notifications that arrived: changed files are
// checked now, and created or renamed ones bring the next scan forward.
func (t *tailer) drainNotify(now time.Time) {
	n := t.notify
	if n == nil {
		return
	}
	if n.rescan.Swap(false) {
		t.scanSoon = true
	}
	if n.overflow.Swap(false) {
		t.lastPoll = time.Time{}
	}
	for {
		select {
		case name := <-n.names:
			f := t.byPath[name]
			switch {
			case f == nil:
			case f.fd == nil:
				t.activate(f)
			default:
				if fi, err := f.fd.Stat(); err == nil {
					t.noteStat(f, fi, now)
				}
			}
		default:
			return
		}
	}
}
