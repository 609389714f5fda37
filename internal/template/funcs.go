package template

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"time"
)

// funcs are the helpers. The value a helper works on comes last, so that
// `{{ .path | split "/" | last }}` reads left to right.
var funcs = texttemplate.FuncMap{
	"get":          get,
	"split":        split,
	"first":        first,
	"last":         last,
	"join":         join,
	"lower":        func(s any) string { return strings.ToLower(toString(s)) },
	"upper":        func(s any) string { return strings.ToUpper(toString(s)) },
	"trim":         func(s any) string { return strings.TrimSpace(toString(s)) },
	"trimPrefix":   func(prefix string, s any) string { return strings.TrimPrefix(toString(s), prefix) },
	"trimSuffix":   func(suffix string, s any) string { return strings.TrimSuffix(toString(s), suffix) },
	"replace":      func(old, new string, s any) string { return strings.ReplaceAll(toString(s), old, new) },
	"regexReplace": regexReplace,
	"regexFind":    regexFind,
	"ipPrefix":     ipPrefix,
	"domain":       domain,
	"default":      defaultValue,
	"strftime":     strftime,
	"toJson":       func(v any) string { return string(appendJSON(nil, v)) },
	"index":        index,
}

// split splits s at every sep.
func split(sep string, s any) Array {
	parts := strings.Split(toString(s), sep)
	a := make(Array, len(parts))
	for i, p := range parts {
		a[i] = p
	}
	return a
}

// list returns x as a reflect value of a slice or array, if it is one.
func list(x any) (reflect.Value, bool) {
	v := reflect.ValueOf(x)
	if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
		return v, true
	}
	return v, false
}

// first returns the first element of a list, or "".
func first(x any) any {
	if v, ok := list(x); ok && v.Len() > 0 {
		return orEmpty(v.Index(0).Interface())
	}
	return ""
}

// last returns the last element of a list, or "".
func last(x any) any {
	if v, ok := list(x); ok && v.Len() > 0 {
		return orEmpty(v.Index(v.Len() - 1).Interface())
	}
	return ""
}

// join joins the elements of a list, printed as text, with sep.
func join(sep string, x any) string {
	v, ok := list(x)
	if !ok {
		return toString(x)
	}
	var b strings.Builder
	for i := range v.Len() {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(toString(v.Index(i).Interface()))
	}
	return b.String()
}

// index returns coll[key] for each key in turn: list positions (negative
// ones count from the end) and object keys. Anything missing is "".
func index(coll any, keys ...any) any {
	cur := coll
	for _, k := range keys {
		switch c := cur.(type) {
		case Object:
			cur = orEmpty(c[toString(k)])
			continue
		case map[string]any:
			cur = orEmpty(c[toString(k)])
			continue
		}
		v, ok := list(cur)
		i, isInt := toInt(k)
		if !ok || !isInt {
			return ""
		}
		if i < 0 {
			i += v.Len()
		}
		if i < 0 || i >= v.Len() {
			return ""
		}
		cur = orEmpty(v.Index(i).Interface())
	}
	return cur
}

func toInt(x any) (int, bool) {
	switch t := x.(type) {
	case int:
		return t, true
	case int64:
		return int(t), true
	case string:
		i, err := strconv.Atoi(t)
		return i, err == nil
	}
	return 0, false
}

// defaultValue returns v, or def when v is empty: missing, null, "", or an
// empty list or object. Zero and false are values, not empty.
func defaultValue(def, v any) any {
	switch t := v.(type) {
	case nil:
		return def
	case string:
		if t == "" {
			return def
		}
	case Object:
		if len(t) == 0 {
			return def
		}
	case Array:
		if len(t) == 0 {
			return def
		}
	}
	return v
}

// regexReplace replaces the matches of re in s with repl, in which $1 or
// ${name} stand for submatches.
func regexReplace(re, repl string, s any) (string, error) {
	r, err := compileRegexp(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllString(toString(s), repl), nil
}

// regexFind returns the first match of re in s, or "" when there is none.
// When re has a group, it returns the text of the first group instead, so
// `regexFind "user=<([^>]+)>"` picks a value out of a line.
func regexFind(re string, s any) (string, error) {
	r, err := compileRegexp(re)
	if err != nil {
		return "", err
	}
	str := toString(s)
	m := r.FindStringSubmatchIndex(str)
	switch {
	case m == nil:
		return "", nil
	case len(m) > 2:
		if m[2] < 0 {
			return "", nil // the group took no part in the match
		}
		return str[m[2]:m[3]], nil
	}
	return str[m[0]:m[1]], nil
}

// The regexp cache is bounded so that generated patterns cannot grow it
// without end; past the bound patterns are compiled on every use.
var (
	regexps     sync.Map // string → *regexp.Regexp
	regexpCount atomic.Int32
)

const maxCachedRegexps = 256

func compileRegexp(re string) (*regexp.Regexp, error) {
	if r, ok := regexps.Load(re); ok {
		return r.(*regexp.Regexp), nil
	}
	r, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("compiling regular expression: %w", err)
	}
	if regexpCount.Add(1) <= maxCachedRegexps {
		regexps.Store(re, r)
	}
	return r, nil
}

// strftime formats a time with % verbs (see Strftime). t may be a
// timestamp, an RFC 3339 string or Unix seconds.
func strftime(layout string, t any) (string, error) {
	tm, err := toTime(t)
	if err != nil {
		return "", err
	}
	return string(Strftime(nil, layout, tm)), nil
}

func toTime(x any) (time.Time, error) {
	switch t := x.(type) {
	case Time:
		return t.Time, nil
	case time.Time:
		return t, nil
	case int64:
		return time.Unix(t, 0).UTC(), nil
	case int:
		return time.Unix(int64(t), 0).UTC(), nil
	case float64:
		sec := int64(t)
		return time.Unix(sec, int64((t-float64(sec))*1e9)).UTC(), nil
	case string:
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("strftime: %q is not an RFC 3339 time", t)
		}
		return tm, nil
	}
	return time.Time{}, fmt.Errorf("strftime: cannot use a %T as a time", x)
}
