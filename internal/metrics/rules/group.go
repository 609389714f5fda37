package rules

import (
	"sync/atomic"
)

// A group is rules with the same inputs, condition, field and regex (say,
// a request counter and a bytes counter over one access-log regex). The
// config loader finds them (ShareKey, Share); the first rule's sink then
// runs the condition and the regex once per event and counts the event
// for every rule of the group, each in its own family, with its own
// skipped and error counters; the others' sinks acknowledge their batches
// and count nothing themselves. A 14-capture regex is most of a rule's
// cost: two rules sharing it cost little more than one.
//
// Each rule stays a component of its own (its ID, health and metrics are
// unchanged); the group's evaluation time is observed in the first rule's
// metrics_rule_duration_seconds. The loader folds the group into each
// member's hash, so a reload that changes any member rebuilds all of them.
type group struct {
	members []atomic.Pointer[Sink] // by position; set by each member's New
}

// ShareKey is what rules must have in common, besides their inputs, to
// share one evaluation: "" (never shared) for a rule without a regex.
func (c *Config) ShareKey() string {
	if c.Regex == "" {
		return ""
	}
	return c.Field + "\x00" + c.Regex + "\x00" + c.Condition
}

// Share makes c the i-th rule of a group (the config loader calls it on
// every member, in order, with the group's options).
func (c *Config) Share(members []any, i int) {
	if i == 0 {
		c.group = &group{members: make([]atomic.Pointer[Sink], len(members))}
	} else if first, ok := members[0].(*Config); ok {
		c.group = first.group
	}
	c.pos = i
}

// join registers s in its rule's group, if any.
func (s *Sink) join(c *Config) {
	if c.group == nil || c.pos >= len(c.group.members) {
		return
	}
	s.group, s.pos = c.group, c.pos
	c.group.members[c.pos].Store(s)
}

// following reports whether the group's first rule counts s's events.
func (s *Sink) following() bool {
	return s.group != nil && s.pos > 0 && s.group.members[0].Load() != nil
}

// peers returns the other members of the group s leads (those built so
// far), reusing s's slice.
func (s *Sink) peers() []*Sink {
	if s.group == nil || s.pos != 0 {
		return nil
	}
	s.peerBuf = s.peerBuf[:0]
	for i := 1; i < len(s.group.members); i++ {
		if p := s.group.members[i].Load(); p != nil {
			s.peerBuf = append(s.peerBuf, p)
		}
	}
	return s.peerBuf
}
