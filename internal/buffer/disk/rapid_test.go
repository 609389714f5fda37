package disk

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
)

// machine checks the buffer against a model of at-least-once delivery under
// random pushes, pops, acknowledgements, abandonments, crashes (kill -9:
// nothing more is written or saved) and clean restarts.
//
// The model knows every record pushed (each push waits until the buffer
// released the upstream token, so the record is stored) and the order of
// the log. Its invariant: after any restart, every record that was pushed
// and not acknowledged by the sink is delivered again, in log order, and
// nothing that was not pushed is ever delivered. Records acknowledged but
// perhaps not yet covered by a saved watermark may come again (optional).
// After a clean restart the watermark is exact, so records of the
// acknowledged prefix must not come again.
type machine struct {
	e      *env
	b      *Buffer
	u      *upstream
	nextID int
	pushed []int // log order

	expect   []expected    // records not yet popped in this run, in log order
	popped   map[int]*held // records popped in this run
	order    int
	requeued []int        // abandoned, handed out again first, by pop order
	stale    []*ack.Token // tokens of runs that ended
}

type expected struct {
	id       int
	optional bool
}

type held struct {
	order int
	acked bool
	tok   *ack.Token // nil while released
}

func (m *machine) push(t *rapid.T) {
	id := m.nextID
	m.nextID++
	pad := rapid.IntRange(0, 1500).Draw(t, "pad")
	msg := fmt.Sprintf("%06d", id)
	batch := m.u.batch(msg, string(make([]byte, pad)))
	if err := m.b.Push(context.Background(), batch); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if s := m.u.wait(t, msg); s != ack.Delivered {
		t.Fatalf("upstream token of %d released %v", id, s)
	}
	m.pushed = append(m.pushed, id)
	m.expect = append(m.expect, expected{id: id})
}

// unread is how many records the buffer still has to hand out.
func (m *machine) unread() int {
	m.b.s.mu.Lock()
	defer m.b.s.mu.Unlock()
	return m.b.s.queued
}

func (m *machine) pop(t *rapid.T) {
	if m.unread() == 0 {
		for _, x := range m.expect {
			if !x.optional {
				t.Fatalf("record %d was pushed and never acknowledged, but the buffer has nothing left", x.id)
			}
		}
		if len(m.requeued) > 0 {
			t.Fatalf("abandoned records %v not handed out again", m.requeued)
		}
		m.expect = nil
		t.Skip("nothing to pop")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := m.b.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	id := recordID(t, b)
	if len(m.requeued) > 0 {
		if id != m.requeued[0] {
			t.Fatalf("popped %d, want abandoned record %d first", id, m.requeued[0])
		}
		m.requeued = m.requeued[1:]
		m.popped[id].tok = b.Ack
		return
	}
	m.match(t, id)
	m.popped[id] = &held{order: m.order, tok: b.Ack}
	m.order++
}

// match removes id from the front of expect, skipping optional records
// the buffer no longer had.
func (m *machine) match(t *rapid.T, id int) {
	for i, x := range m.expect {
		if x.id == id {
			m.expect = m.expect[i+1:]
			return
		}
		if !x.optional {
			t.Fatalf("popped %d, but record %d before it was skipped (lost or out of order)", id, x.id)
		}
	}
	t.Fatalf("popped %d, which was not expected (expect %v)", id, m.expect)
}

func recordID(t *rapid.T, b *event.Batch) int {
	if len(b.Events) != 2 {
		t.Fatalf("batch of %d events, want 2", len(b.Events))
	}
	var id int
	if _, err := fmt.Sscanf(string(b.Events[0].Message), "%d", &id); err != nil {
		t.Fatalf("bad message %q", b.Events[0].Message)
	}
	return id
}

// live returns the ids of popped records whose token is still held, sorted.
func (m *machine) live() []int {
	var out []int
	for id, h := range m.popped {
		if h.tok != nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (m *machine) ack(t *rapid.T) {
	live := m.live()
	if len(live) == 0 {
		t.Skip("nothing popped")
	}
	id := rapid.SampledFrom(live).Draw(t, "id")
	h := m.popped[id]
	h.tok.Release(rapid.SampledFrom([]ack.Status{ack.Delivered, ack.Rejected, ack.Dropped}).Draw(t, "status"))
	h.tok, h.acked = nil, true
}

func (m *machine) abandon(t *rapid.T) {
	live := m.live()
	if len(live) == 0 {
		t.Skip("nothing popped")
	}
	id := rapid.SampledFrom(live).Draw(t, "id")
	h := m.popped[id]
	h.tok.Release(ack.Abandoned)
	h.tok = nil
	m.requeued = append(m.requeued, id)
	slices.SortFunc(m.requeued, func(a, b int) int { return m.popped[a].order - m.popped[b].order })
}

func (m *machine) lateAck(t *rapid.T) {
	if len(m.stale) == 0 {
		t.Skip("no stale tokens")
	}
	i := rapid.IntRange(0, len(m.stale)-1).Draw(t, "i")
	m.stale[i].Release(ack.Delivered)
	m.stale = slices.Delete(m.stale, i, i+1)
}

// restart ends the run, cleanly or by crashing, and computes what the next
// run must deliver.
func (m *machine) restart(clean bool) {
	if clean {
		m.b.Shutdown()
	} else {
		m.b.crash()
	}
	first := -1 // first record, in log order, popped and not acknowledged
	for _, id := range m.pushed {
		if h, ok := m.popped[id]; ok && !h.acked {
			first = id
			break
		}
	}
	unread := map[int]bool{}
	for _, x := range m.expect {
		unread[x.id] = x.optional
	}
	var next []expected
	for _, id := range m.pushed {
		if opt, ok := unread[id]; ok {
			next = append(next, expected{id, opt})
			continue
		}
		h, ok := m.popped[id]
		switch {
		case !ok:
		case !h.acked:
			next = append(next, expected{id, false})
		case !clean || (first >= 0 && id > first):
			next = append(next, expected{id, true})
		}
		if ok && h.tok != nil {
			m.stale = append(m.stale, h.tok)
		}
	}
	m.expect, m.popped, m.requeued, m.order = next, map[int]*held{}, nil, 0
	m.b = m.e.open()
}

func (m *machine) check(t *rapid.T) {
	mandatory := 0
	for _, x := range m.expect {
		if !x.optional {
			mandatory++
		}
	}
	for _, h := range m.popped {
		if !h.acked {
			mandatory++
		}
	}
	if n, _ := m.b.Len(); n < 2*mandatory {
		t.Fatalf("Len = %d events, but %d records (2 events each) are not acknowledged", n, mandatory)
	}
}

func TestStateMachine(t *testing.T) {
	base := t.TempDir()
	policies := []FsyncPolicy{FsyncNever}
	if !testing.Short() {
		policies = append(policies, FsyncAlways, FsyncInterval)
	}
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp(base, "sm")
		if err != nil {
			rt.Fatal(err)
		}
		e := &env{t: t, dir: dir, m: newEnv(t, Options{}).m, opt: Options{
			SegmentSize:       minSegmentSize,
			Fsync:             rapid.SampledFrom(policies).Draw(rt, "fsync"),
			FsyncInterval:     time.Millisecond,
			WatermarkInterval: time.Duration(rapid.IntRange(1, 20).Draw(rt, "watermark_ms")) * time.Millisecond,
		}}
		m := &machine{e: e, u: newUpstream(), popped: map[int]*held{}}
		m.b = e.open()
		defer func() { m.b.Shutdown() }()
		rt.Repeat(map[string]func(*rapid.T){
			"push":    m.push,
			"pop":     m.pop,
			"ack":     m.ack,
			"abandon": m.abandon,
			"lateAck": m.lateAck,
			"crash":   func(*rapid.T) { m.restart(false) },
			"restart": func(*rapid.T) { m.restart(true) },
			"":        m.check,
		})
	})
}
