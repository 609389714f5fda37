package rules

import (
	"runtime"
	"sync"

	"github.com/sluice-log/sluice/internal/event"
)

// minPerWorker is the fewest events worth a goroutine of their own: a
// worker costs about a microsecond to start and join, an event 0.1 to a
// few microseconds.
const minPerWorker = 256

// workers is how many goroutines evaluate a batch of n events. Counters,
// histograms and gauges that add or subtract commute, so a batch can be
// split and its parts counted in any order; a gauge that sets keeps the
// events' order and runs on one goroutine. Rules without a regex or a
// condition are cheap next to the family's lock, which the workers would
// only contend for: they run on one goroutine too, as do rules with
// exemplars or event timestamps, which keep the latest event's.
func (s *Sink) workers(n int, peers []*Sink) int {
	r := s.r
	if r.op == opSet || r.detailed || (r.re == nil && r.cond == nil) {
		return 1
	}
	for _, p := range peers {
		if p.r.op == opSet || p.r.detailed {
			return 1
		}
	}
	return max(1, min(runtime.GOMAXPROCS(0), n/minPerWorker))
}

// evalParallel evaluates events in n parts at once: the first on s, the
// others on helpers, shallow copies of s (and of its peers) with scratch
// buffers of their own, kept for the next batch. It returns the tallies
// of s and its peers, as evalAll does.
func (s *Sink) evalParallel(events []event.Event, n int, peers []*Sink) []tally {
	for len(s.helpers) < n-1 {
		s.helpers = append(s.helpers, s.scratchCopy())
	}
	parts := make([][]tally, n)
	per := (len(events) + n - 1) / n
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		lo, hi := min(i*per, len(events)), min((i+1)*per, len(events))
		h := s.helpers[i-1]
		hp := h.peerCopies(peers)
		wg.Go(func() { parts[i] = h.evalAll(events[lo:hi], hp, make([]tally, 1+len(peers))) })
	}
	parts[0] = s.evalAll(events[:min(per, len(events))], peers, make([]tally, 1+len(peers)))
	wg.Wait()
	for _, p := range parts[1:] {
		for j := range p {
			parts[0][j].add(p[j])
		}
	}
	return parts[0]
}

// scratchCopy is a shallow copy of s with scratch buffers of its own.
func (s *Sink) scratchCopy() *Sink {
	h := *s
	h.key, h.scr, h.subs, h.helpers, h.det.key, h.copies, h.peerBuf = nil, nil, nil, nil, nil, nil, nil
	return &h
}

// peerCopies returns h's scratch copies of peers, made on first use and
// kept while the peers stay the same.
func (h *Sink) peerCopies(peers []*Sink) []*Sink {
	if len(h.copies) != len(peers) {
		h.copies = make([]*Sink, len(peers))
	}
	for i, p := range peers {
		if c := h.copies[i]; c == nil || c.r != p.r || c.fam != p.fam {
			h.copies[i] = p.scratchCopy()
		}
	}
	return h.copies
}
