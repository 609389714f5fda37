package event

import (
	"math"
	"strconv"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds a Value can hold.
const (
	KindNull Kind = iota
	KindString
	KindInt
	KindFloat
	KindBool
	KindTime
	KindObject
	KindArray
)

// Value is one field value. It is a small struct rather than an interface
// so that parsers can fill fields without boxing (one allocation each).
// The zero Value is null.
type Value struct {
	kind Kind
	str  string
	num  uint64 // int64, float64 bits, bool, or unix nanoseconds
	ref  any    // Fields for objects, []Value for arrays
}

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// Int returns an integer value.
func Int(i int64) Value { return Value{kind: KindInt, num: uint64(i)} }

// Float returns a floating point value.
func Float(f float64) Value { return Value{kind: KindFloat, num: math.Float64bits(f)} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.num = 1
	}
	return v
}

// Time returns a timestamp value.
func Time(t time.Time) Value { return Value{kind: KindTime, num: uint64(t.UnixNano())} }

// Object returns a nested object value.
func Object(f Fields) Value { return Value{kind: KindObject, ref: f} }

// Array returns an array value.
func Array(vs []Value) Value { return Value{kind: KindArray, ref: vs} }

// Null returns the null value.
func Null() Value { return Value{} }

// Kind reports the kind of v.
func (v Value) Kind() Kind { return v.kind }

// Str returns the string of a string value, or "".
func (v Value) Str() string { return v.str }

// Int returns v as an integer; floats are truncated, numeric strings parsed.
func (v Value) Int() (int64, bool) {
	switch v.kind {
	case KindInt:
		return int64(v.num), true
	case KindFloat:
		return int64(math.Float64frombits(v.num)), true
	case KindString:
		i, err := strconv.ParseInt(v.str, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// Float returns v as a float; integers are converted, numeric strings parsed.
func (v Value) Float() (float64, bool) {
	switch v.kind {
	case KindInt:
		return float64(int64(v.num)), true
	case KindFloat:
		return math.Float64frombits(v.num), true
	case KindString:
		f, err := strconv.ParseFloat(v.str, 64)
		return f, err == nil
	}
	return 0, false
}

// Bool returns the value of a boolean.
func (v Value) Bool() bool { return v.kind == KindBool && v.num == 1 }

// Time returns the value of a timestamp.
func (v Value) Time() time.Time { return time.Unix(0, int64(v.num)).UTC() }

// Fields returns the fields of an object value, or nil.
func (v Value) Fields() Fields { f, _ := v.ref.(Fields); return f }

// Array returns the elements of an array value, or nil.
func (v Value) Array() []Value { a, _ := v.ref.([]Value); return a }

// Any converts v to plain Go values (string, int64, float64, bool,
// time.Time, map[string]any, []any, nil) for expressions and templates.
func (v Value) Any() any {
	switch v.kind {
	case KindString:
		return v.str
	case KindInt:
		return int64(v.num)
	case KindFloat:
		return math.Float64frombits(v.num)
	case KindBool:
		return v.num == 1
	case KindTime:
		return v.Time()
	case KindObject:
		return v.Fields().Map()
	case KindArray:
		a := v.Array()
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = e.Any()
		}
		return out
	}
	return nil
}

// FromAny converts a plain Go value (as produced by encoding/json, expr or
// templates) into a Value. Unknown types become their fmt string.
func FromAny(x any) Value {
	switch t := x.(type) {
	case nil:
		return Null()
	case Value:
		return t
	case string:
		return String(t)
	case []byte:
		return String(string(t))
	case bool:
		return Bool(t)
	case int:
		return Int(int64(t))
	case int64:
		return Int(t)
	case int32:
		return Int(int64(t))
	case uint64:
		return Int(int64(t))
	case float64:
		return Float(t)
	case float32:
		return Float(float64(t))
	case time.Time:
		return Time(t)
	case map[string]any:
		f := make(Fields, 0, len(t))
		for k, e := range t {
			f = append(f, Field{Key: k, Value: FromAny(e)})
		}
		f.sortKeys()
		return Object(f)
	case []any:
		a := make([]Value, len(t))
		for i, e := range t {
			a[i] = FromAny(e)
		}
		return Array(a)
	}
	return String(fmtAny(x))
}

// Text renders v the way a template or the text encoding shows it: strings
// as themselves, numbers in their shortest form, objects and arrays as JSON.
func (v Value) Text() string {
	switch v.kind {
	case KindString:
		return v.str
	case KindNull:
		return ""
	}
	return string(v.AppendJSON(nil))
}

// AppendText appends the Text form of v to buf.
func (v Value) AppendText(buf []byte) []byte {
	if v.kind == KindString {
		return append(buf, v.str...)
	}
	if v.kind == KindNull {
		return buf
	}
	return v.AppendJSON(buf)
}

// AppendJSON appends v encoded as JSON to buf. Invalid UTF-8 in strings is
// escaped as \ufffd-free \u00XX sequences (see AppendJSONString).
func (v Value) AppendJSON(buf []byte) []byte {
	switch v.kind {
	case KindNull:
		return append(buf, "null"...)
	case KindString:
		return AppendJSONString(buf, v.str)
	case KindInt:
		return strconv.AppendInt(buf, int64(v.num), 10)
	case KindFloat:
		f := math.Float64frombits(v.num)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return append(buf, "null"...)
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	case KindBool:
		return strconv.AppendBool(buf, v.num == 1)
	case KindTime:
		buf = append(buf, '"')
		buf = v.Time().AppendFormat(buf, time.RFC3339Nano)
		return append(buf, '"')
	case KindObject:
		return v.Fields().AppendJSON(buf)
	case KindArray:
		buf = append(buf, '[')
		for i, e := range v.Array() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = e.AppendJSON(buf)
		}
		return append(buf, ']')
	}
	return buf
}
