package expr

import (
	"fmt"
	"net/netip"

	exprlang "github.com/expr-lang/expr"

	"github.com/sluice-log/sluice/internal/event"
)

// functions returns the option adding sluice's functions to expr's
// built-ins (which already include lower, upper, split, trim, replace,
// hasPrefix, int, float, len, now, duration, date, ... and the operators
// matches, contains, startsWith, endsWith, in).
// functionNames are the names functions adds.
var functionNames = []string{"cidr", "num"}

func functions() []exprlang.Option {
	return []exprlang.Option{
		exprlang.Function("cidr", cidr, new(func(string, string) bool)),
		exprlang.Function("num", num, new(func(any) any)),
	}
}

// cidr reports whether ip (a string) lies in the prefix ("10.0.0.0/8",
// "2001:db8::/32"). An ip that does not parse is not in any prefix; a prefix
// that does not parse is an error.
func cidr(params ...any) (any, error) {
	ip, _ := params[0].(string)
	prefix, _ := params[1].(string)
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil {
		return false, fmt.Errorf("cidr: %w", err)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false, nil
	}
	return pfx.Contains(addr.Unmap()), nil
}

// num converts a number or a string holding a decimal number to a number,
// and returns nil for anything else, where int() and float() would fail.
func num(params ...any) (any, error) {
	switch x := params[0].(type) {
	case string:
		n := numericString(x)
		if _, unchanged := n.(string); unchanged {
			return nil, nil
		}
		return n, nil
	case int, int64, float64:
		return x, nil
	case nil:
		return nil, nil
	}
	v := event.FromAny(params[0])
	if n := Numeric(v); n != nil {
		switch n.(type) {
		case int64, float64:
			return n, nil
		}
	}
	return nil, nil
}
