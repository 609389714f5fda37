package template

import (
	"strconv"
	"time"
)

// Strftime appends t formatted by layout to buf, with C strftime verbs:
//
//	%Y year (2006)        %m month (01)        %d day (02)
//	%H hour (15)          %M minute (04)       %S second (05)
//	%y year (06)          %j day of year (001) %s Unix seconds
//	%b month (Jan)        %B month (January)   %a weekday (Mon)
//	%A weekday (Monday)   %Z zone (UTC)        %z offset (+0000)
//	%F %Y-%m-%d           %T %H:%M:%S          %% a percent sign
//
// Unknown verbs, and a % at the end, are kept as written. The time is used
// in its own location: call t.UTC() or t.Local() first to choose.
func Strftime(buf []byte, layout string, t time.Time) []byte {
	var d date
	d.year, d.month, d.day = t.Date()
	d.hour, d.min, d.sec = t.Clock()
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			buf = append(buf, c)
			continue
		}
		i++
		buf = appendVerb(buf, layout[i], t, &d)
	}
	return buf
}

// date holds the calendar fields of the time, computed once per call.
type date struct {
	year, day, hour, min, sec int
	month                     time.Month
}

func appendVerb(buf []byte, verb byte, t time.Time, d *date) []byte {
	switch verb {
	case 'Y':
		return appendYear(buf, d.year)
	case 'm':
		return append2(buf, int(d.month))
	case 'd':
		return append2(buf, d.day)
	case 'H':
		return append2(buf, d.hour)
	case 'M':
		return append2(buf, d.min)
	case 'S':
		return append2(buf, d.sec)
	case 'y':
		return append2(buf, (d.year%100+100)%100)
	case 'j':
		d := t.YearDay()
		return append(buf, byte('0'+d/100), byte('0'+d/10%10), byte('0'+d%10))
	case 's':
		return strconv.AppendInt(buf, t.Unix(), 10)
	case 'b':
		return append(buf, d.month.String()[:3]...)
	case 'B':
		return append(buf, d.month.String()...)
	case 'a':
		return append(buf, t.Weekday().String()[:3]...)
	case 'A':
		return append(buf, t.Weekday().String()...)
	case 'Z':
		name, _ := t.Zone()
		return append(buf, name...)
	case 'z':
		return appendOffset(buf, t)
	case 'F':
		buf = appendYear(buf, d.year)
		buf = append(append2(append(buf, '-'), int(d.month)), '-')
		return append2(buf, d.day)
	case 'T':
		buf = append(append2(buf, d.hour), ':')
		buf = append(append2(buf, d.min), ':')
		return append2(buf, d.sec)
	case '%':
		return append(buf, '%')
	}
	return append(buf, '%', verb)
}

// append2 appends n (0-99) as two digits.
func append2(buf []byte, n int) []byte { return append(buf, byte('0'+n/10), byte('0'+n%10)) }

// appendYear appends a year with at least four digits.
func appendYear(buf []byte, y int) []byte {
	if y < 0 {
		buf = append(buf, '-')
		y = -y
	}
	for d := 1000; d > 1 && y < d; d /= 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, int64(y), 10)
}

func appendOffset(buf []byte, t time.Time) []byte {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	off /= 60
	return append2(append2(append(buf, sign), off/60%100), off%60)
}
