package redact

import (
	"net/netip"
	"strings"
)

// The e-mail and IP scanners are hand-written for the same reason as the
// card scanner: each starts from a cheap anchor byte ('@', '.', ':') and
// looks around it, so text without the anchor costs one IndexByte.

// findEmails appends the spans of e-mail addresses: a local part of
// letters, digits and ._%+- , '@', and a domain of labels with at least one
// dot and a top-level label of two or more letters.
func findEmails(s string, pat int, dst []span) []span {
	from := 0
	for {
		at := strings.IndexByte(s[from:], '@')
		if at < 0 {
			return dst
		}
		at += from
		start := at
		for start > 0 && isLocal(s[start-1]) {
			start--
		}
		end, ok := emailDomain(s, at+1)
		if ok && start < at {
			dst = append(dst, span{start: start, end: end, pat: pat})
			from = end
		} else {
			from = at + 1
		}
		if from >= len(s) {
			return dst
		}
	}
}

// emailDomain returns the end of a domain starting at i, and whether it
// is one: a dot inside it and a top-level label of two or more letters.
func emailDomain(s string, i int) (int, bool) {
	end := i
	for end < len(s) && (isAlnum(s[end]) && s[end] != '_' || s[end] == '-' || s[end] == '.') {
		end++
	}
	// A sentence may end right after the address.
	for end > i && (s[end-1] == '.' || s[end-1] == '-') {
		end--
	}
	dot := strings.LastIndexByte(s[i:end], '.')
	if dot <= 0 || end-(i+dot+1) < 2 {
		return end, false
	}
	for _, c := range []byte(s[i+dot+1 : end]) {
		if !isAlnum(c) || isDigit(c) {
			return end, false
		}
	}
	return end, true
}

func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

// findIPv4 appends the spans of dotted-quad IPv4 addresses (each octet
// 0-255), not part of a longer run of digits and dots. It jumps from dot
// to dot, so text without dots costs one IndexByte.
func findIPv4(s string, pat int, dst []span) []span {
	for from := 0; from < len(s); {
		dot := strings.IndexByte(s[from:], '.')
		if dot < 0 {
			return dst
		}
		dot += from
		start := dot
		for start > 0 && isDigit(s[start-1]) && dot-start < 4 {
			start--
		}
		from = dot + 1
		if start == dot || (start > 0 && (isAlnum(s[start-1]) || s[start-1] == '.')) {
			continue
		}
		if end, ok := ipv4At(s, start); ok {
			dst = append(dst, span{start: start, end: end, pat: pat})
			from = end
		}
	}
	return dst
}

// ipv4At parses a dotted quad at s[i:].
func ipv4At(s string, i int) (int, bool) {
	for octet := 0; octet < 4; octet++ {
		if octet > 0 {
			if i >= len(s) || s[i] != '.' {
				return i, false
			}
			i++
		}
		n, digits := 0, 0
		for i < len(s) && isDigit(s[i]) && digits < 4 {
			n = n*10 + int(s[i]-'0')
			i++
			digits++
		}
		if digits == 0 || digits > 3 || n > 255 {
			return i, false
		}
	}
	if i < len(s) && (isAlnum(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
		return i, false
	}
	return i, true
}

// findIPv6 appends the spans of IPv6 addresses: maximal runs of hex
// digits, ':' and '.' with at least two colons that net/netip accepts.
func findIPv6(s string, pat int, dst []span) []span {
	for i := 0; i < len(s); {
		if !isHex(s[i]) && s[i] != ':' {
			i++
			continue
		}
		end, colons, hex := i, 0, 0
		for end < len(s) && (isHex(s[end]) || s[end] == ':' || s[end] == '.') {
			switch {
			case s[end] == ':':
				colons++
			case s[end] != '.':
				hex++
			}
			end++
		}
		boundary := (i == 0 || !isAlnum(s[i-1])) && (end == len(s) || !isAlnum(s[end]))
		if colons >= 2 && hex > 0 && boundary {
			// A trailing dot ends a sentence, not the address.
			e := end
			for e > i && s[e-1] == '.' {
				e--
			}
			if plausibleIPv6(s[i:e]) {
				dst = append(dst, span{start: i, end: e, pat: pat})
			}
		}
		i = end
	}
	return dst
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// hasTwoColons is the IPv6 prefilter.
func hasTwoColons(s string) bool {
	i := strings.IndexByte(s, ':')
	return i >= 0 && strings.IndexByte(s[i+1:], ':') >= 0
}

// plausibleIPv6 parses s as an IPv6 address. It first checks the colon
// count (seven, six before a dotted IPv4 tail, or a "::"), so times and MAC addresses are turned away
// without netip building an error.
func plausibleIPv6(s string) bool {
	colons := strings.Count(s, ":")
	if colons != 7 && !strings.Contains(s, "::") && (colons != 6 || strings.IndexByte(s, '.') < 0) {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}
