package push

import (
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
)

// statsd encodes statsd lines into packets of at most mtu bytes, lines
// joined by "\n". A counter sends its increase since the previous push
// (name:delta|c; nothing when it did not grow; a counter that went down
// was reset, and its new value is the increase); a gauge its value
// (name:v|g; a negative value is sent as 0|g then v|g, since statsd reads
// a leading sign as a change); a histogram its count and sum increases as
// two counters, name_count and name_sum. Labels go into the name
// (name.label.value, "path") or DogStatsD tags (|#label:value).
type statsd struct {
	prefix string
	dog    bool
	mtu    int

	last map[string]float64 // by series: the values the deltas start from
	lbl  []label
	line []byte
}

func newStatsd(c config.Pusher) *statsd {
	return &statsd{prefix: c.Prefix, dog: c.Tags == "dogstatsd", mtu: c.MTU}
}

func (s *statsd) baseline(snap *snapshot) { s.encode(snap) }

func (s *statsd) encode(snap *snapshot) ([][]byte, int) {
	next := make(map[string]float64, len(s.last))
	var pk packer
	pk.mtu = s.mtu
	n := 0
	for fi := range snap.fams {
		f := &snap.fams[fi]
		for si := range f.series {
			x := &f.series[si]
			s.lbl = f.sortedLabels(s.lbl, x)
			id := f.name + "\xff" + strings.Join(x.Labels, "\xff")
			switch f.kind {
			case store.Gauge:
				if x.Value < 0 {
					s.line = s.format(s.line[:0], f.name, "", 0, "g")
					s.line = append(s.line, '\n')
				} else {
					s.line = s.line[:0]
				}
				s.line = s.format(s.line, f.name, "", x.Value, "g")
				pk.add(s.line)
				n++
			case store.Counter:
				n += s.counter(&pk, next, id, f.name, "", x.Value)
			case store.Histogram:
				// A count that went down means the series was reset: both
				// start over.
				if prev, ok := s.last[id+"\xffc"]; ok && float64(x.Count) < prev {
					delete(s.last, id+"\xffs")
				}
				n += s.counter(&pk, next, id+"\xffc", f.name, "_count", float64(x.Count))
				n += s.counter(&pk, next, id+"\xffs", f.name, "_sum", x.Sum)
			}
		}
	}
	s.last = next
	return pk.flush(), n
}

// counter adds the line of a counter's increase since the last push, if
// any, and reports how many lines it added.
func (s *statsd) counter(pk *packer, next map[string]float64, id, name, suffix string, v float64) int {
	next[id] = v
	d := v
	if prev, ok := s.last[id]; ok && (v >= prev || suffix == "_sum") {
		d = v - prev
	}
	if d == 0 {
		return 0
	}
	s.line = s.format(s.line[:0], name, suffix, d, "c")
	pk.add(s.line)
	return 1
}

func (s *statsd) format(b []byte, name, suffix string, v float64, typ string) []byte {
	if s.prefix != "" {
		b = appendStatsd(b, s.prefix, false)
		b = append(b, '.')
	}
	b = appendStatsd(b, name, false)
	b = append(b, suffix...)
	if !s.dog {
		for _, l := range s.lbl {
			b = append(b, '.')
			b = appendStatsd(b, l.name, true)
			b = append(b, '.')
			b = appendStatsd(b, l.value, true)
		}
	}
	b = append(b, ':')
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	b = append(b, '|')
	b = append(b, typ...)
	if s.dog && len(s.lbl) > 0 {
		b = append(b, "|#"...)
		for i, l := range s.lbl {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendStatsd(b, l.name, true)
			b = append(b, ':')
			b = appendStatsd(b, l.value, true)
		}
	}
	return b
}

// appendStatsd appends a name or tag: what the line format uses as a
// separator (: | @ # , newlines, whitespace) becomes _, and in a path
// node or tag the dot too.
func appendStatsd(b []byte, s string, node bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f, c == ':', c == '|', c == '@', c == '#', c == ',', node && c == '.':
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// packer joins lines into packets of at most mtu bytes ("\n" between
// lines); a line longer than mtu goes alone.
type packer struct {
	mtu     int
	cur     []byte
	packets [][]byte
}

func (p *packer) add(line []byte) {
	if len(p.cur) > 0 && len(p.cur)+1+len(line) > p.mtu {
		p.packets = append(p.packets, p.cur)
		p.cur = nil
	}
	if len(p.cur) > 0 {
		p.cur = append(p.cur, '\n')
	}
	p.cur = append(p.cur, line...)
}

func (p *packer) flush() [][]byte {
	if len(p.cur) > 0 {
		p.packets = append(p.packets, p.cur)
	}
	return p.packets
}

var (
	_ encoder   = (*statsd)(nil)
	_ baseliner = (*statsd)(nil)
)
