package template

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// What templates see of event values: strings, int64, float64 and bool as
// such, and the types below, which print as RFC 3339 and JSON instead of
// Go's formatting. Missing and null values are "".

// Time is a timestamp in a template. Its methods (.Unix, .Format, .Year)
// are those of time.Time; it prints in RFC 3339 with nanoseconds.
type Time struct{ time.Time }

// String formats t as RFC 3339 with nanoseconds.
func (t Time) String() string { return string(appendTime(nil, t.Time)) }

// Object is a nested object in a template: index it, range over it, or read
// its keys with .key. It prints as JSON with sorted keys.
type Object map[string]any

// String formats o as JSON.
func (o Object) String() string { return string(appendJSON(nil, o)) }

// Array is a list in a template. It prints as JSON.
type Array []any

// String formats a as JSON.
func (a Array) String() string { return string(appendJSON(nil, a)) }

func appendTime(buf []byte, t time.Time) []byte { return t.AppendFormat(buf, time.RFC3339Nano) }

// toAny converts an event value into what templates see.
func toAny(v event.Value) any {
	switch v.Kind() {
	case event.KindNull:
		return ""
	case event.KindTime:
		return Time{v.Time()}
	case event.KindObject:
		fs := v.Fields()
		o := make(Object, len(fs))
		for _, f := range fs {
			o[f.Key] = toAny(f.Value)
		}
		return o
	case event.KindArray:
		vs := v.Array()
		a := make(Array, len(vs))
		for i, e := range vs {
			a[i] = toAny(e)
		}
		return a
	}
	return v.Any()
}

// get returns the value of path in dot: a field or attribute of an event,
// or a key (dotted path) of an object. It is what `.x` compiles to.
func get(dot any, path string) any {
	switch d := dot.(type) {
	case *event.Event:
		switch path {
		case event.KeyTimestamp:
			return Time{d.Timestamp}
		case event.KeyMessage:
			return string(d.Message)
		}
		if v, ok := d.Get(path); ok {
			return toAny(v)
		}
		return ""
	case Object:
		return getPath(d, path)
	case map[string]any:
		return getPath(d, path)
	}
	return ""
}

func getPath(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return orEmpty(v)
	}
	head, rest, ok := strings.Cut(path, ".")
	if !ok {
		return ""
	}
	switch next := m[head].(type) {
	case Object:
		return getPath(next, rest)
	case map[string]any:
		return getPath(next, rest)
	}
	return ""
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// toString renders x the way the template prints it.
func toString(x any) string {
	switch t := x.(type) {
	case string:
		return t
	case nil:
		return ""
	case []byte:
		return string(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case fmt.Stringer:
		return t.String()
	}
	return fmt.Sprint(x)
}

// appendJSON encodes a template value as JSON; maps with sorted keys.
func appendJSON(buf []byte, x any) []byte {
	switch t := x.(type) {
	case nil:
		return append(buf, "null"...)
	case string:
		return event.AppendJSONString(buf, t)
	case int64:
		return strconv.AppendInt(buf, t, 10)
	case int:
		return strconv.AppendInt(buf, int64(t), 10)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return append(buf, "null"...)
		}
		return strconv.AppendFloat(buf, t, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(buf, t)
	case Time:
		buf = append(buf, '"')
		return append(appendTime(buf, t.Time), '"')
	case time.Time:
		buf = append(buf, '"')
		return append(appendTime(buf, t), '"')
	case Object:
		return appendJSONMap(buf, t)
	case map[string]any:
		return appendJSONMap(buf, t)
	case Array:
		return appendJSONList(buf, t)
	case []any:
		return appendJSONList(buf, t)
	case []string:
		buf = append(buf, '[')
		for i, s := range t {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = event.AppendJSONString(buf, s)
		}
		return append(buf, ']')
	}
	return appendJSONReflect(buf, x)
}

func appendJSONMap(buf []byte, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = event.AppendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendJSON(buf, m[k])
	}
	return append(buf, '}')
}

func appendJSONList(buf []byte, l []any) []byte {
	buf = append(buf, '[')
	for i, e := range l {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSON(buf, e)
	}
	return append(buf, ']')
}

// appendJSONReflect covers the remaining types: other numbers, other slices
// and anything with a String method.
func appendJSONReflect(buf []byte, x any) []byte {
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(buf, v.Uint(), 10)
	case reflect.Float32:
		return appendJSON(buf, v.Float())
	case reflect.Slice, reflect.Array:
		buf = append(buf, '[')
		for i := range v.Len() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, v.Index(i).Interface())
		}
		return append(buf, ']')
	}
	return event.AppendJSONString(buf, toString(x))
}
