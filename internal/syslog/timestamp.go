package syslog

import (
	"sync/atomic"
	"time"
)

// FutureSlack is how far in the future a yearless RFC 3164 timestamp may lie
// relative to the receive time before it is taken to be from the previous
// year. It absorbs clock skew while getting the December/January rollover
// right in both directions.
const FutureSlack = 72 * time.Hour

const maxOffsetMin = 24*60 - 1

// zones caches one *time.Location per UTC offset in minutes, so parsing a
// timestamp with an offset does not allocate a new zone each time.
var zones [2*maxOffsetMin + 1]atomic.Pointer[time.Location]

func fixedZone(offMin int) *time.Location {
	if offMin == 0 {
		return time.UTC
	}
	z := &zones[offMin+maxOffsetMin]
	if l := z.Load(); l != nil {
		return l
	}
	l := time.FixedZone("", offMin*60)
	z.Store(l)
	return l
}

// num reads n decimal digits at b[i:].
func num(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// clock is a parsed wall-clock time of day.
type clock struct{ hour, min, sec, nsec int }

// parseClock reads "hh:mm:ss[.frac]" at b[i:]. Up to nine fraction digits
// count; further digits are skipped.
func parseClock(b []byte, i int) (c clock, next int, ok bool) {
	var ok1, ok2, ok3 bool
	c.hour, ok1 = num(b, i, 2)
	c.min, ok2 = num(b, i+3, 2)
	c.sec, ok3 = num(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 || b[i+2] != ':' || b[i+5] != ':' || c.hour > 23 || c.min > 59 || c.sec > 60 {
		return c, 0, false
	}
	i += 8
	if i < len(b) && b[i] == '.' {
		i++
		start, scale := i, 100000000
		for ; i < len(b) && isDigit(b[i]); i++ {
			c.nsec += int(b[i]-'0') * scale
			scale /= 10
		}
		if i == start {
			return c, 0, false
		}
	}
	return c, i, true
}

// parseRFC3339 reads an RFC 3339 timestamp at b[i:] ("2026-11-22T02:31:24.677754+00:00").
// A missing offset is tolerated and means loc.
func parseRFC3339(b []byte, i int, loc *time.Location) (t time.Time, next int, ok bool) {
	year, ok1 := num(b, i, 4)
	month, ok2 := num(b, i+5, 2)
	day, ok3 := num(b, i+8, 2)
	if !ok1 || !ok2 || !ok3 || b[i+4] != '-' || b[i+7] != '-' || i+10 >= len(b) ||
		(b[i+10] != 'T' && b[i+10] != 't') || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return t, 0, false
	}
	c, i, ok := parseClock(b, i+11)
	if !ok {
		return t, 0, false
	}
	off, zoned := 0, false
	if i < len(b) {
		switch b[i] {
		case 'Z', 'z':
			zoned, i = true, i+1
		case '+', '-':
			h, okh := num(b, i+1, 2)
			m, okm := num(b, i+4, 2)
			if !okh || !okm || b[i+3] != ':' || h > 23 || m > 59 {
				return t, 0, false
			}
			off = h*60 + m
			if b[i] == '-' {
				off = -off
			}
			zoned, i = true, i+6
		}
	}
	if !zoned {
		return time.Date(year, time.Month(month), day, c.hour, c.min, c.sec, c.nsec, loc), i, true
	}
	// With a fixed offset the instant is plain arithmetic, cheaper than time.Date.
	sec := daysFromCivil(year, month, day)*86400 + int64(c.hour*3600+c.min*60+c.sec-off*60)
	return time.Unix(sec, int64(c.nsec)).In(fixedZone(off)), i, true
}

// daysFromCivil returns the days from 1970-01-01 to a proleptic Gregorian
// date (year >= 0), after Howard Hinnant's algorithm.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// months holds "jan".."dec" packed into integers, for a quick
// case-insensitive match.
var months = func() (m [12]uint32) {
	for i, n := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		m[i] = uint32(n[0])<<16 | uint32(n[1])<<8 | uint32(n[2])
	}
	return m
}()

func parseMonth(b []byte, i int) (int, bool) {
	if i+3 > len(b) {
		return 0, false
	}
	k := uint32(b[i]|0x20)<<16 | uint32(b[i+1]|0x20)<<8 | uint32(b[i+2]|0x20)
	for m, v := range months {
		if k == v {
			return m + 1, true
		}
	}
	return 0, false
}

// bsdStamp is an RFC 3164 timestamp; year is 0 when the sender gave none.
type bsdStamp struct {
	year, month, day int
	clock
}

// parseBSDStamp reads "Mmm dd hh:mm:ss[.frac]" at b[i:], also accepting an
// unpadded day ("Nov 2") and a year before the time ("Nov 22 2026 02:33:42").
func parseBSDStamp(b []byte, i int) (st bsdStamp, next int, ok bool) {
	if st.month, ok = parseMonth(b, i); !ok || i+5 >= len(b) || b[i+3] != ' ' {
		return st, 0, false
	}
	i += 4
	if b[i] == ' ' {
		i++
	}
	for n := 0; n < 2 && i < len(b) && isDigit(b[i]); n++ {
		st.day = st.day*10 + int(b[i]-'0')
		i++
	}
	if st.day < 1 || st.day > 31 || i >= len(b) || b[i] != ' ' {
		return st, 0, false
	}
	i++
	if y, ok := num(b, i, 4); ok && i+4 < len(b) && b[i+4] == ' ' {
		st.year, i = y, i+5
	}
	st.clock, i, ok = parseClock(b, i)
	if !ok || (st.year != 0 && st.day > daysIn(st.month, st.year)) {
		return st, 0, false
	}
	return st, i, true
}

// time resolves the stamp in loc. A yearless stamp gets the latest year in
// which it is not more than FutureSlack after now.
func (st bsdStamp) time(loc *time.Location, now time.Time) time.Time {
	mk := func(y int) time.Time {
		return time.Date(y, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, loc)
	}
	if st.year != 0 {
		return mk(st.year)
	}
	local := now.In(loc)
	ny, limit := local.Year(), now.Add(FutureSlack)
	first := ny
	if time.Month(st.month) < local.Month() {
		first = ny + 1 // only then can next year be near enough (January seen in December)
	}
	for y := first; y >= ny-8; y-- {
		if st.day > daysIn(st.month, y) {
			continue
		}
		if t := mk(y); !t.After(limit) {
			return t
		}
	}
	return mk(ny) // unreachable: some year in range has every valid day
}
