package template

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestLabelHelpers(t *testing.T) {
	tests := []struct {
		name, src, value, want string
	}{
		{name: "ipv4 /24", src: `{{ .v | ipPrefix 24 64 }}`, value: "203.0.113.77", want: "203.0.113.0/24"},
		{name: "ipv4 whole", src: `{{ .v | ipPrefix 32 64 }}`, value: "203.0.113.77", want: "203.0.113.77"},
		{name: "ipv4 /0", src: `{{ .v | ipPrefix 0 0 }}`, value: "203.0.113.77", want: "0.0.0.0/0"},
		{name: "ipv6 /64", src: `{{ .v | ipPrefix 24 64 }}`, value: "2001:db8:1:2:aaaa:bbbb:cccc:dddd", want: "2001:db8:1:2::/64"},
		{name: "ipv6 canonical", src: `{{ .v | ipPrefix 24 128 }}`, value: "2001:DB8:0:0::0001", want: "2001:db8::1"},
		{name: "ipv6 zone dropped", src: `{{ .v | ipPrefix 24 64 }}`, value: "fe80::1:2:3:4%eth0", want: "fe80::/64"},
		{name: "mapped ipv4 is ipv4", src: `{{ .v | ipPrefix 24 64 }}`, value: "::ffff:198.51.100.9", want: "198.51.100.0/24"},
		{name: "empty", src: `[{{ .v | ipPrefix 24 64 }}]`, value: "", want: "[]"},
		{name: "missing", src: `[{{ .nope | ipPrefix 24 64 }}]`, want: "[]"},
		{name: "domain", src: `{{ .v | domain }}`, value: "Alice@Example.ORG", want: "example.org"},
		{name: "domain last at", src: `{{ domain .v }}`, value: `"a@b"@mail.example.net`, want: "mail.example.net"},
		{name: "domain without at", src: `{{ domain .v }}`, value: "Alice", want: "alice"},
		{name: "domain empty", src: `[{{ domain .v }}]`, value: "", want: "[]"},
		{name: "regexFind whole match", src: `{{ regexFind "[0-9]+" .v }}`, value: "port 2222 ssh2", want: "2222"},
		{name: "regexFind group", src: `{{ regexFind "user=<([^>]+)>" .v }}`, value: "auth failed: user=<bob@example.com>, rip=192.0.2.1", want: "bob@example.com"},
		{name: "regexFind no match", src: `[{{ regexFind "x=([0-9]+)" .v }}]`, value: "y=1", want: "[]"},
		{name: "regexFind group not taken", src: `[{{ regexFind "a|(b)" .v }}]`, value: "a", want: "[]"},
		{name: "regexFind then domain", src: `{{ .v | regexFind "user=<([^>]+)>" | domain }}`, value: "user=<bob@Example.com>", want: "example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &event.Event{Fields: event.Fields{{Key: "v", Value: event.String(tc.value)}}}
			got, err := MustParse(tc.src).Render(nil, e)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, string(got))
		})
	}
}

func TestLabelHelperErrors(t *testing.T) {
	tests := []struct {
		name, src, value, want string
	}{
		{name: "not an address", src: `{{ .v | ipPrefix 24 64 }}`, value: "example.com", want: `"example.com" is not an IP address`},
		{name: "address with port", src: `{{ .v | ipPrefix 24 64 }}`, value: "192.0.2.1:22", want: "is not an IP address"},
		{name: "ipv4 bits too long", src: `{{ .v | ipPrefix 33 64 }}`, value: "192.0.2.1", want: "/33 is not a prefix length of an IPv4 address"},
		{name: "negative bits", src: `{{ .v | ipPrefix 24 -1 }}`, value: "2001:db8::1", want: "/-1 is not a prefix length of an IPv6 address"},
		{name: "bad regexp", src: `{{ regexFind "(" .v }}`, value: "x", want: "compiling regular expression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &event.Event{Fields: event.Fields{{Key: "v", Value: event.String(tc.value)}}}
			got, err := MustParse(tc.src).Render([]byte("keep"), e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render = %q, %v; want an error containing %q", got, err, tc.want)
			}
			testutil.Diff(t, "keep", string(got))
		})
	}
}

// FuzzIPPrefix masks random text: no panic, and a result is a prefix that
// contains the address it came from.
func FuzzIPPrefix(f *testing.F) {
	f.Add("203.0.113.77", 24, 64)
	f.Add("2001:db8::1%eth0", 32, 48)
	f.Add("::ffff:1.2.3.4", 0, 128)
	f.Add("1.2.3.4.5", -1, 129)
	f.Fuzz(func(t *testing.T, s string, v4, v6 int) {
		out, err := ipPrefix(v4, v6, s)
		if err != nil || out == "" {
			return
		}
		a := mustAddr(t, s)
		if p, perr := parsePrefixOrAddr(out); perr != nil || !p.Contains(a) {
			t.Fatalf("ipPrefix(%d, %d, %q) = %q, which does not contain the address (%v)", v4, v6, s, out, perr)
		}
	})
}

func BenchmarkIPPrefix(b *testing.B) {
	tpl := MustParse(`{{ .v | ipPrefix 24 64 }}`)
	e := &event.Event{Fields: event.Fields{{Key: "v", Value: event.String("2001:db8:1:2:aaaa:bbbb:cccc:dddd")}}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tpl.Render(buf[:0], e)
	}
}

func BenchmarkDomain(b *testing.B) {
	tpl := MustParse(`{{ .v | domain }}`)
	e := &event.Event{Fields: event.Fields{{Key: "v", Value: event.String("alice@example.org")}}}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tpl.Render(buf[:0], e)
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("ipPrefix accepted %q, which is not an address", s)
	}
	return a.Unmap().WithZone("")
}

func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// BenchmarkIPPrefixFunc is the helper alone, without text/template's call
// overhead: one allocation, the result string.
func BenchmarkIPPrefixFunc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ipPrefix(24, 64, "2001:db8:1:2:aaaa:bbbb:cccc:dddd")
	}
}
