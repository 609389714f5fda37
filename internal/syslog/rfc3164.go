package syslog

import (
	"bytes"
	"time"
)

// maxTag bounds the length of an RFC 3164 TAG (the RFC says 32; real
// programs such as "postfix/submission/smtpd" are longer).
const maxTag = 128

// ParseRFC3164 parses b as BSD syslog, "<PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG",
// into m. Only the PRI is required; the rest is recognised when present:
//
//   - TIMESTAMP "Mmm dd hh:mm:ss" (optionally with a fraction, an unpadded
//     day, or a year before the time) in loc, the year chosen so that the
//     time is at most FutureSlack after now; or an RFC 3339 timestamp, as
//     rsyslog's forwarding format writes it.
//   - HOSTNAME is absent in the local format ("<13>Nov 22 03:23:18 TAG: msg",
//     as glibc and logger -u write it): a first word that ends in ':' or
//     "[pid]" is the TAG.
//   - TAG ends in ": ", or in "[PID]" with an optional ':'. Without that the
//     rest is all MSG.
//
// It reports false only when b does not start with a valid PRI.
func ParseRFC3164(b []byte, m *Message, loc *time.Location, now time.Time) bool {
	*m = Message{}
	pri, i, ok := parsePRI(b)
	if !ok {
		return false
	}
	m.Format, m.Priority = FormatRFC3164, pri
	t, j, ok := parseStamp3164(b, i, loc, now)
	if !ok {
		m.AppName, m.ProcID, m.Msg = parseTag(b[i:])
		return true
	}
	m.Timestamp = t
	rest := b[j:]
	if len(rest) > 0 {
		rest = rest[1:] // the space after the timestamp
	}
	word, after, more := bytes.Cut(rest, []byte{' '})
	if looksLikeTag(word) {
		m.AppName, m.ProcID, m.Msg = parseTag(rest)
		return true
	}
	if !isHostname(word) {
		m.AppName, m.ProcID, m.Msg = parseTag(rest)
		return true
	}
	m.Hostname = word
	if !more {
		m.Msg = rest[len(rest):]
		return true
	}
	m.AppName, m.ProcID, m.Msg = parseTag(after)
	return true
}

// parseStamp3164 reads a BSD or RFC 3339 timestamp at b[i:] that is followed
// by a space or the end, and returns the index after it.
func parseStamp3164(b []byte, i int, loc *time.Location, now time.Time) (time.Time, int, bool) {
	if i >= len(b) {
		return time.Time{}, 0, false
	}
	var t time.Time
	var j int
	var ok bool
	if isDigit(b[i]) {
		t, j, ok = parseRFC3339(b, i, loc)
	} else {
		var st bsdStamp
		if st, j, ok = parseBSDStamp(b, i); ok {
			t = st.time(loc, now)
		}
	}
	if !ok || (j < len(b) && b[j] != ' ') {
		return time.Time{}, 0, false
	}
	return t, j, true
}

func isHostname(w []byte) bool {
	for _, c := range w {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return len(w) > 0
}

func isTagChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != ':' && c != '[' && c != ']'
}

// looksLikeTag reports whether w is "tag:" or "tag[pid]" with an optional
// colon, which no hostname is.
func looksLikeTag(w []byte) bool {
	colon := len(w) > 0 && w[len(w)-1] == ':'
	if colon {
		w = w[:len(w)-1]
	}
	n := tagLen(w)
	switch {
	case n == 0 || n == maxTag:
		return false
	case n == len(w):
		return colon
	}
	// "tag[pid]": one ']' and it is last.
	return w[n] == '[' && len(w) > n+2 && bytes.IndexByte(w[n+1:], ']') == len(w)-n-2
}

func tagLen(s []byte) int {
	i := 0
	for i < len(s) && i < maxTag && isTagChar(s[i]) {
		i++
	}
	return i
}

// parseTag splits "TAG[PID]: MSG" or "TAG: MSG"; anything else is all MSG.
func parseTag(s []byte) (app, pid, msg []byte) {
	i := tagLen(s)
	if i == 0 || i == len(s) || i == maxTag {
		return nil, nil, s
	}
	switch s[i] {
	case ':':
		if i+1 == len(s) || s[i+1] == ' ' {
			return s[:i], nil, afterSpace(s, i+1)
		}
	case '[':
		j := i + 1
		for j < len(s) && s[j] != ']' && s[j] > ' ' {
			j++
		}
		if j == i+1 || j == len(s) || s[j] != ']' {
			return nil, nil, s
		}
		k := j + 1
		if k < len(s) && s[k] == ':' {
			k++
		}
		if k == len(s) || s[k] == ' ' {
			return s[:i], s[i+1 : j], afterSpace(s, k)
		}
	}
	return nil, nil, s
}
