package template

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template/parse"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
)

// A chain is a field reference passed through string helpers whose other
// arguments are constants: `{{ .ip | ipPrefix 24 64 }}`, `{{ domain .user
// | upper }}`. Metric labels are mostly of that shape, so such templates are
// rendered without text/template: the field's text goes through the helpers
// in two reused buffers. The output is exactly what text/template prints
// (FuzzChainMatchesGeneral checks it); anything else, a helper fed by
// another field or a regular expression that does not compile, takes the
// general path.

// step is one helper of a chain: it appends the result for src to dst.
type step struct {
	name string
	fn   func(dst, src []byte) ([]byte, error)
}

// chainRef returns the field path and steps of a pipeline that is a chain.
func chainRef(p *parse.PipeNode) (string, []step, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) == 0 {
		return "", nil, false
	}
	var path string
	var steps []step
	first := p.Cmds[0].Args
	if len(first) == 1 {
		var ok bool
		if path, ok = argRef(first[0]); !ok {
			return "", nil, false
		}
	} else {
		// helper consts... .field
		var ok bool
		if path, ok = argRef(first[len(first)-1]); !ok {
			return "", nil, false
		}
		s, ok := helperStep(first[:len(first)-1])
		if !ok {
			return "", nil, false
		}
		steps = append(steps, s)
	}
	for _, c := range p.Cmds[1:] {
		s, ok := helperStep(c.Args)
		if !ok {
			return "", nil, false
		}
		steps = append(steps, s)
	}
	return path, steps, len(steps) > 0
}

// helperStep builds the step of `name const...`.
func helperStep(args []parse.Node) (step, bool) {
	if len(args) == 0 {
		return step{}, false
	}
	id, ok := args[0].(*parse.IdentifierNode)
	if !ok {
		return step{}, false
	}
	build, ok := chainHelpers[id.Ident]
	if !ok {
		return step{}, false
	}
	fn, ok := build(args[1:])
	return step{name: id.Ident, fn: fn}, ok
}

type stepFunc = func(dst, src []byte) ([]byte, error)

// chainHelpers build the byte versions of the string helpers of funcs.go
// from their constant arguments.
var chainHelpers = map[string]func(args []parse.Node) (stepFunc, bool){
	"lower":  noArgs(func(dst, src []byte) []byte { return appendCase(dst, src, false) }),
	"upper":  noArgs(func(dst, src []byte) []byte { return appendCase(dst, src, true) }),
	"trim":   noArgs(func(dst, src []byte) []byte { return append(dst, bytes.TrimSpace(src)...) }),
	"domain": noArgs(appendDomain),
	"trimPrefix": func(args []parse.Node) (stepFunc, bool) {
		p, ok := strings1(args)
		return func(dst, src []byte) ([]byte, error) { return append(dst, bytes.TrimPrefix(src, []byte(p))...), nil }, ok
	},
	"trimSuffix": func(args []parse.Node) (stepFunc, bool) {
		p, ok := strings1(args)
		return func(dst, src []byte) ([]byte, error) { return append(dst, bytes.TrimSuffix(src, []byte(p))...), nil }, ok
	},
	"replace": func(args []parse.Node) (stepFunc, bool) {
		oldNew, ok := stringArgs(args, 2)
		return func(dst, src []byte) ([]byte, error) {
			return append(dst, bytes.ReplaceAll(src, []byte(oldNew[0]), []byte(oldNew[1]))...), nil
		}, ok
	},
	"regexReplace": func(args []parse.Node) (stepFunc, bool) {
		a, ok := stringArgs(args, 2)
		r, err := regexpOf(a, ok)
		return func(dst, src []byte) ([]byte, error) { return append(dst, r.ReplaceAll(src, []byte(a[1]))...), nil }, err == nil
	},
	"regexFind": func(args []parse.Node) (stepFunc, bool) {
		a, ok := stringArgs(args, 1)
		r, err := regexpOf(a, ok)
		return func(dst, src []byte) ([]byte, error) {
			m := r.FindSubmatchIndex(src)
			switch {
			case m == nil || (len(m) > 2 && m[2] < 0):
				return dst, nil
			case len(m) > 2:
				return append(dst, src[m[2]:m[3]]...), nil
			}
			return append(dst, src[m[0]:m[1]]...), nil
		}, err == nil
	},
	"ipPrefix": func(args []parse.Node) (stepFunc, bool) {
		if len(args) != 2 {
			return nil, false
		}
		v4, ok4 := intArg(args[0])
		v6, ok6 := intArg(args[1])
		return func(dst, src []byte) ([]byte, error) { return appendIPPrefix(dst, string(src), v4, v6) }, ok4 && ok6
	},
}

func noArgs(f func(dst, src []byte) []byte) func([]parse.Node) (stepFunc, bool) {
	return func(args []parse.Node) (stepFunc, bool) {
		return func(dst, src []byte) ([]byte, error) { return f(dst, src), nil }, len(args) == 0
	}
}

func strings1(args []parse.Node) (string, bool) {
	a, ok := stringArgs(args, 1)
	if !ok {
		return "", false
	}
	return a[0], true
}

// stringArgs returns the values of n string constants.
func stringArgs(args []parse.Node, n int) ([]string, bool) {
	if len(args) != n {
		return nil, false
	}
	out := make([]string, n)
	for i, a := range args {
		s, ok := a.(*parse.StringNode)
		if !ok {
			return nil, false
		}
		out[i] = s.Text
	}
	return out, true
}

func intArg(n parse.Node) (int, bool) {
	num, ok := n.(*parse.NumberNode)
	if !ok || !num.IsInt || int64(int(num.Int64)) != num.Int64 {
		return 0, false
	}
	return int(num.Int64), true
}

// regexpOf compiles the first of args, the pattern.
func regexpOf(args []string, ok bool) (*regexp.Regexp, error) {
	if !ok {
		return nil, errNoChain
	}
	return regexp.Compile(args[0])
}

var errNoChain = errors.New("not a chain")

// appendCase appends src in lower or upper case, as strings.ToLower and
// strings.ToUpper would return it; ASCII without a copy to a string.
func appendCase(dst, src []byte, upper bool) []byte {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			if upper {
				return append(dst, strings.ToUpper(string(src))...)
			}
			return append(dst, strings.ToLower(string(src))...)
		}
	}
	for _, c := range src {
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendDomain is domain on bytes.
func appendDomain(dst, src []byte) []byte {
	if i := bytes.LastIndexByte(src, '@'); i >= 0 {
		src = src[i+1:]
	}
	return appendCase(dst, src, false)
}

// scratch holds the two buffers a chain alternates between.
type scratch struct{ a, b []byte }

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// appendChain appends the text of the field path of e, passed through
// steps, to buf. On error buf is returned as it was.
func appendChain(buf []byte, e *event.Event, path string, steps []step) ([]byte, error) {
	sc := scratches.Get().(*scratch)
	cur, other := appendField(sc.a[:0], e, path), sc.b[:0]
	var err error
	for _, s := range steps {
		var out []byte
		if out, err = s.fn(other[:0], cur); err != nil {
			err = fmt.Errorf("error calling %s: %w", s.name, err)
			break
		}
		cur, other = out, cur
	}
	if err == nil {
		buf = append(buf, cur...)
	}
	sc.a, sc.b = cur[:0], other[:0]
	scratches.Put(sc)
	return buf, err
}
