package event

import (
	"fmt"
	"sort"
	"strings"
)

// Field is one named value.
type Field struct {
	Key   string
	Value Value
}

// Fields is an ordered set of named values. Order is insertion order, which
// encoders keep, so output is stable. Lookups are linear: log events carry
// few fields, and a slice is cheaper to fill and reuse than a map.
type Fields []Field

// Get returns the value of key. A key with dots ("http.status") is also
// looked up as a path through nested objects when no field has that exact name.
func (f Fields) Get(key string) (Value, bool) {
	for i := range f {
		if f[i].Key == key {
			return f[i].Value, true
		}
	}
	head, rest, ok := strings.Cut(key, ".")
	if !ok {
		return Value{}, false
	}
	v, ok := f.Get(head)
	if !ok || v.kind != KindObject {
		return Value{}, false
	}
	return v.Fields().Get(rest)
}

// Set sets key to v, replacing an existing field of that name.
func (f *Fields) Set(key string, v Value) {
	for i := range *f {
		if (*f)[i].Key == key {
			(*f)[i].Value = v
			return
		}
	}
	*f = append(*f, Field{Key: key, Value: v})
}

// Delete removes key and reports whether it was present.
func (f *Fields) Delete(key string) bool {
	for i := range *f {
		if (*f)[i].Key == key {
			*f = append((*f)[:i], (*f)[i+1:]...)
			return true
		}
	}
	return false
}

// Clone returns a deep copy of f.
func (f Fields) Clone() Fields {
	if f == nil {
		return nil
	}
	out := make(Fields, len(f))
	for i, fl := range f {
		out[i] = Field{Key: fl.Key, Value: fl.Value.clone()}
	}
	return out
}

func (v Value) clone() Value {
	switch v.kind {
	case KindObject:
		return Object(v.Fields().Clone())
	case KindArray:
		a := v.Array()
		c := make([]Value, len(a))
		for i, e := range a {
			c[i] = e.clone()
		}
		return Array(c)
	}
	return v
}

// Map converts f to a map of plain Go values.
func (f Fields) Map() map[string]any {
	m := make(map[string]any, len(f))
	for _, fl := range f {
		m[fl.Key] = fl.Value.Any()
	}
	return m
}

// AppendJSON appends f as a JSON object.
func (f Fields) AppendJSON(buf []byte) []byte {
	buf = append(buf, '{')
	for i, fl := range f {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = AppendJSONString(buf, fl.Key)
		buf = append(buf, ':')
		buf = fl.Value.AppendJSON(buf)
	}
	return append(buf, '}')
}

func (f Fields) sortKeys() {
	sort.Slice(f, func(i, j int) bool { return f[i].Key < f[j].Key })
}

func fmtAny(x any) string { return fmt.Sprint(x) }
