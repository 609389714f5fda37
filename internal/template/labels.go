package template

import (
	"fmt"
	"net/netip"
	"strings"
)

// The helpers here reduce a value to a coarser one before it becomes a
// metric label or a field, so that a label fed by outside input has fewer
// values: an address becomes its network, an e-mail address its domain
// (what the reaction exporter's Jinja pre-treatment and reaction's own
// ipv4mask/ipv6mask do).

// ipPrefix masks the address ip to its first v4bits (IPv4) or v6bits
// (IPv6) bits and returns the network as "203.0.113.0/24". With all the
// bits (32, 128) it returns the address alone, in canonical form. An
// IPv4-mapped IPv6 address (::ffff:203.0.113.7) counts as IPv4, and a zone
// (%eth0) is dropped. An empty value gives ""; anything else that is not an
// address is an error.
func ipPrefix(v4bits, v6bits int, ip any) (string, error) {
	var buf [64]byte // the longest IPv6 prefix is 43 bytes: no allocation but the result
	b, err := appendIPPrefix(buf[:0], toString(ip), v4bits, v6bits)
	return string(b), err
}

// appendIPPrefix appends what ipPrefix returns for s to dst.
func appendIPPrefix(dst []byte, s string, v4bits, v6bits int) ([]byte, error) {
	if s == "" {
		return dst, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return dst, fmt.Errorf("ipPrefix: %q is not an IP address", s)
	}
	a = a.Unmap().WithZone("")
	bits, version := v6bits, 6
	if a.Is4() {
		bits, version = v4bits, 4
	}
	if bits < 0 || bits > a.BitLen() {
		return dst, fmt.Errorf("ipPrefix: /%d is not a prefix length of an IPv%d address", bits, version)
	}
	if bits == a.BitLen() {
		return a.AppendTo(dst), nil
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return dst, fmt.Errorf("ipPrefix: %w", err)
	}
	return p.AppendTo(dst), nil
}

// domain returns the part of an e-mail address after its last "@" (the
// whole value when it has none), in lower case: domain names ignore case,
// and one spelling per domain keeps the label's values few.
func domain(s any) string {
	str := toString(s)
	if i := strings.LastIndexByte(str, '@'); i >= 0 {
		str = str[i+1:]
	}
	return strings.ToLower(str)
}
