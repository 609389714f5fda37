package push

import (
	"encoding/binary"
	"math"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
)

// maxName is the longest collectd name part, in bytes (DATA_MAX_NAME_LEN
// is 128 with the NUL); longer label sets are cut there.
const maxName = 127

// valueList is one collectd value list: one value of the gauge or derive
// type, named host/plugin-plugin_instance/type-type_instance.
type valueList struct {
	pluginInstance, typ, typeInstance string
	gauge                             float64
	derive                            int64
}

// collectdNames maps a snapshot to value lists: plugin_instance is the
// rule name (name_count and name_sum for a histogram's two lists), type
// is derive for counters and counts (rounded down to an integer, as
// DERIVE is) and gauge for gauges and sums, type_instance is the labels,
// label=value joined by commas ("/" and quotes become _).
func collectdNames(s *snapshot, out []valueList) []valueList {
	out = out[:0]
	var lbl []label
	for fi := range s.fams {
		f := &s.fams[fi]
		for si := range f.series {
			x := &f.series[si]
			lbl = f.sortedLabels(lbl, x)
			ti := collectdInstance(lbl)
			switch f.kind {
			case store.Gauge:
				out = append(out, valueList{pluginInstance: f.name, typ: "gauge", typeInstance: ti, gauge: x.Value})
			case store.Counter:
				out = append(out, valueList{pluginInstance: f.name, typ: "derive", typeInstance: ti, derive: int64(x.Value)})
			case store.Histogram:
				out = append(out,
					valueList{pluginInstance: f.name + "_count", typ: "derive", typeInstance: ti, derive: int64(x.Count)},
					valueList{pluginInstance: f.name + "_sum", typ: "gauge", typeInstance: ti, gauge: x.Sum})
			}
		}
	}
	return out
}

func collectdInstance(lbl []label) string {
	var b []byte
	for i, l := range lbl {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCollectd(b, l.name)
		b = append(b, '=')
		b = appendCollectd(b, l.value)
	}
	if len(b) > maxName {
		b = b[:maxName]
	}
	return string(b)
}

func appendCollectd(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == '/' || c == '"' || c == '\\' || c == 0x7f {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

func newCollectd(c config.Pusher) (encoder, sender, error) {
	host := c.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	if host = string(appendCollectd(nil, host)); len(host) > maxName {
		host = host[:maxName]
	}
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme == "unix" {
		return &putval{host: host, plugin: c.Plugin, interval: c.Interval.D()}, &unixsock{path: u.Path}, nil
	}
	return &collectdNet{host: host, plugin: c.Plugin, interval: c.Interval.D(), mtu: c.MTU},
		datagram(u.Host), nil
}

// putval encodes one unixsock PUTVAL line per value list:
// PUTVAL "host/plugin-instance/type-instance" interval=N time:value.
type putval struct {
	host, plugin string
	interval     time.Duration
	vls          []valueList
}

func (p *putval) encode(s *snapshot) ([][]byte, int) {
	p.vls = collectdNames(s, p.vls)
	ts := strconv.FormatFloat(float64(s.at.UnixMilli())/1000, 'f', 3, 64)
	out := make([][]byte, 0, len(p.vls))
	for _, vl := range p.vls {
		b := make([]byte, 0, 96)
		b = append(b, `PUTVAL "`...)
		b = appendCollectd(b, p.host)
		b = append(b, '/')
		b = append(b, p.plugin...)
		if vl.pluginInstance != "" {
			b = append(b, '-')
			b = append(b, vl.pluginInstance...)
		}
		b = append(b, '/')
		b = append(b, vl.typ...)
		if vl.typeInstance != "" {
			b = append(b, '-')
			b = append(b, vl.typeInstance...)
		}
		b = append(b, `" interval=`...)
		b = strconv.AppendFloat(b, p.interval.Seconds(), 'f', -1, 64)
		b = append(b, ' ')
		b = append(b, ts...)
		b = append(b, ':')
		if vl.typ == "gauge" {
			b = strconv.AppendFloat(b, vl.gauge, 'g', -1, 64)
		} else {
			b = strconv.AppendInt(b, vl.derive, 10)
		}
		out = append(out, append(b, '\n'))
	}
	return out, len(out)
}

// The parts of collectd's binary network protocol
// (https://collectd.org/wiki/index.php/Binary_protocol).
const (
	partHost           = 0x0000
	partPlugin         = 0x0002
	partPluginInstance = 0x0003
	partType           = 0x0004
	partTypeInstance   = 0x0005
	partValues         = 0x0006
	partTimeHR         = 0x0008
	partIntervalHR     = 0x0009

	dsGauge  = 1
	dsDerive = 2
)

// collectdNet encodes value lists into binary-protocol packets of at most
// mtu bytes. Within a packet a part is written only when it differs from
// the one before (the receiver keeps the last of each), as collectd does.
type collectdNet struct {
	host, plugin string
	interval     time.Duration
	mtu          int
	vls          []valueList
}

func (c *collectdNet) encode(s *snapshot) ([][]byte, int) {
	c.vls = collectdNames(s, c.vls)
	e := netEncoder{mtu: c.mtu}
	e.reset()
	hr := func(t time.Duration) uint64 { // 2^-30 seconds
		return uint64(t/time.Second)<<30 | uint64(t%time.Second)<<30/uint64(time.Second)
	}
	at := hr(time.Duration(s.at.UnixNano()))
	for _, vl := range c.vls {
		e.add(c.host, c.plugin, vl, at, hr(c.interval))
	}
	return e.flush(), len(c.vls)
}

// netEncoder builds the packets of one push.
type netEncoder struct {
	mtu     int
	cur     []byte
	packets [][]byte
	strs    [5]string // host, plugin, plugin_instance, type, type_instance as last written
	nums    [2]uint64 // time, interval as last written
	fresh   bool      // nothing written in cur yet
}

func (e *netEncoder) reset() {
	e.cur, e.fresh = make([]byte, 0, e.mtu), true
}

func (e *netEncoder) add(host, plugin string, vl valueList, at, interval uint64) {
	strs := [5]string{host, plugin, vl.pluginInstance, vl.typ, vl.typeInstance}
	types := [5]uint16{partHost, partPlugin, partPluginInstance, partType, partTypeInstance}
	nums := [2]uint64{at, interval}
	need := 15 // the values part: 4 + 2 + 1 + 8
	for i := range 5 {
		if e.fresh || e.strs[i] != strs[i] {
			need += 5 + len(strs[i])
		}
	}
	for i := range 2 {
		if e.fresh || e.nums[i] != nums[i] {
			need += 12
		}
	}
	if !e.fresh && len(e.cur)+need > e.mtu {
		e.packets = append(e.packets, e.cur)
		e.reset()
	}
	for i := range 5 {
		if e.fresh || e.strs[i] != strs[i] {
			e.cur = appendString(e.cur, types[i], strs[i])
			e.strs[i] = strs[i]
		}
	}
	for i, t := range [2]uint16{partTimeHR, partIntervalHR} {
		if e.fresh || e.nums[i] != nums[i] {
			e.cur = binary.BigEndian.AppendUint16(e.cur, t)
			e.cur = binary.BigEndian.AppendUint16(e.cur, 12)
			e.cur = binary.BigEndian.AppendUint64(e.cur, nums[i])
			e.nums[i] = nums[i]
		}
	}
	e.fresh = false
	e.cur = binary.BigEndian.AppendUint16(e.cur, partValues)
	e.cur = binary.BigEndian.AppendUint16(e.cur, 15)
	e.cur = binary.BigEndian.AppendUint16(e.cur, 1)
	if vl.typ == "gauge" {
		e.cur = append(e.cur, dsGauge)
		e.cur = binary.LittleEndian.AppendUint64(e.cur, math.Float64bits(vl.gauge)) // gauges are little-endian
	} else {
		e.cur = append(e.cur, dsDerive)
		e.cur = binary.BigEndian.AppendUint64(e.cur, uint64(vl.derive))
	}
}

func appendString(b []byte, typ uint16, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(5+len(s)))
	b = append(b, s...)
	return append(b, 0)
}

func (e *netEncoder) flush() [][]byte {
	if !e.fresh {
		e.packets = append(e.packets, e.cur)
	}
	return e.packets
}

var (
	_ encoder = (*putval)(nil)
	_ encoder = (*collectdNet)(nil)
)
