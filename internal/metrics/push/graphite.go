package push

import (
	"strconv"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// graphite encodes the plaintext protocol, "path value timestamp\n" per
// point: with tags, path is name;label=value;... (Graphite 1.1 tags, by
// label name); with path, name.label.value.... A histogram is sent as
// Prometheus would name it: name_bucket (label le), name_sum, name_count.
// Counters are sent as totals (Graphite has no counter type).
type graphite struct {
	prefix string
	path   bool

	buf  []byte
	size int
	lbl  []label
	cum  []uint64
}

func (g *graphite) encode(s *snapshot) ([][]byte, int) {
	g.buf = make([]byte, 0, g.size) // the last push's size: one allocation
	ts := strconv.AppendInt(nil, s.at.Unix(), 10)
	n := 0
	for fi := range s.fams {
		f := &s.fams[fi]
		for si := range f.series {
			x := &f.series[si]
			g.lbl = f.sortedLabels(g.lbl, x)
			if f.kind != store.Histogram {
				g.line(f.name, "", "", "", x.Value, ts)
				n++
				continue
			}
			g.cum = cumulative(g.cum, x)
			for i, c := range g.cum {
				le := f.les[i]
				g.line(f.name, "_bucket", "le", le, float64(c), ts)
			}
			g.line(f.name, "_sum", "", "", x.Sum, ts)
			g.line(f.name, "_count", "", "", float64(x.Count), ts)
			n += len(g.cum) + 2
		}
	}
	// The buffer is handed to the queue: the next encode starts a new one.
	out := g.buf
	g.buf, g.size = nil, len(out)+len(out)/8
	return [][]byte{out}, n
}

// line appends one point: the name with suffix, g.lbl and the extra label
// (le) when set.
func (g *graphite) line(name, suffix, extra, extraVal string, v float64, ts []byte) {
	b := g.buf
	if g.prefix != "" {
		b = appendGraphiteName(b, g.prefix)
		b = append(b, '.')
	}
	b = appendGraphiteName(b, name)
	b = append(b, suffix...)
	sep, kv := byte(';'), byte('=')
	if g.path {
		sep, kv = '.', '.'
	}
	for _, l := range g.lbl {
		b = append(b, sep)
		b = appendGraphiteTag(b, l.name, g.path)
		b = append(b, kv)
		b = appendGraphiteTag(b, l.value, g.path)
	}
	if extra != "" {
		b = append(b, sep)
		b = append(b, extra...)
		b = append(b, kv)
		b = appendGraphiteTag(b, extraVal, g.path)
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	b = append(b, ' ')
	b = append(b, ts...)
	g.buf = append(b, '\n')
}

// appendGraphiteName appends a metric name: whitespace and ; (which would
// start tags) become _.
func appendGraphiteName(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == ';' || c == 0x7f {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// appendGraphiteTag appends a tag name or value, or a path node: what
// Graphite refuses or splits on becomes _ (whitespace, ; ! ^ = ~, and in
// path mode the dot).
func appendGraphiteTag(b []byte, s string, path bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f, c == ';', c == '!', c == '^', c == '=', c == '~', path && c == '.':
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

var _ encoder = (*graphite)(nil)
