package combined

import "time"

// timeLen is len("02/Jan/2006:15:04:05 -0700").
const timeLen = 26

// ParseTime parses a time in the access-log layout "02/Jan/2006:15:04:05
// -0700" and returns it in UTC. It is written by hand because time.Parse
// costs several hundred nanoseconds and may allocate a zone per offset;
// this does neither. Out-of-range parts (31/Feb, 24:00) are rejected.
func ParseTime(b []byte) (time.Time, bool) {
	if len(b) != timeLen || b[2] != '/' || b[6] != '/' || b[11] != ':' ||
		b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	month := monthIndex(b[3], b[4], b[5])
	day, ok1 := num(b[0:2])
	year, ok2 := num(b[7:11])
	hour, ok3 := num(b[12:14])
	minute, ok4 := num(b[15:17])
	sec, ok5 := num(b[18:20])
	zh, ok6 := num(b[22:24])
	zm, ok7 := num(b[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || month == 0 ||
		day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 || zh > 24 || zm > 60 {
		return time.Time{}, false
	}
	offset := int64(zh*3600 + zm*60)
	switch b[21] {
	case '+':
	case '-':
		offset = -offset
	default:
		return time.Time{}, false
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - offset
	return time.Unix(unix, 0).UTC(), true
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// monthIndex maps "Jan".."Dec", in any case as time.Parse does, to 1..12,
// else 0.
func monthIndex(a, b, c byte) int {
	key := uint32(a|0x20)<<16 | uint32(b|0x20)<<8 | uint32(c|0x20)
	for i, m := range months {
		if m == key {
			return i + 1
		}
	}
	return 0
}

var months = [12]uint32{
	'j'<<16 | 'a'<<8 | 'n', 'f'<<16 | 'e'<<8 | 'b', 'm'<<16 | 'a'<<8 | 'r',
	'a'<<16 | 'p'<<8 | 'r', 'm'<<16 | 'a'<<8 | 'y', 'j'<<16 | 'u'<<8 | 'n',
	'j'<<16 | 'u'<<8 | 'l', 'a'<<16 | 'u'<<8 | 'g', 's'<<16 | 'e'<<8 | 'p',
	'o'<<16 | 'c'<<8 | 't', 'n'<<16 | 'o'<<8 | 'v', 'd'<<16 | 'e'<<8 | 'c',
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
