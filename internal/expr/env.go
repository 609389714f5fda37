package expr

import (
	"strconv"
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
)

// fill puts the values p reads from e into env. Keys are fixed per program,
// so assigning them again does not grow the map; missing values are nil,
// which expr treats like an absent key.
func (p *Program) fill(env map[string]any, e *event.Event) {
	if p.all {
		clear(env)
		for _, f := range e.Fields {
			env[f.Key] = f.Value.Any()
		}
		env[event.KeyTimestamp] = e.Timestamp
		env[event.KeyHost] = e.Host
		env[event.KeyStream] = e.Stream
		env[event.KeyMessage] = messageString(e)
	}
	for i := range p.vars {
		v := &p.vars[i]
		env[v.key] = lookup(e, v.name, v.numeric)
	}
}

// reset drops the references to the last event, so a pooled state does not
// keep its data alive.
func (p *Program) reset(env map[string]any) {
	if p.all {
		clear(env)
		return
	}
	for i := range p.vars {
		env[p.vars[i].key] = nil
	}
}

// lookup returns the plain Go value of an attribute or field, or nil.
func lookup(e *event.Event, name string, numeric bool) any {
	switch name {
	case event.KeyMessage:
		s := messageString(e)
		if numeric {
			return numericString(s)
		}
		return s
	case event.KeyTimestamp:
		return e.Timestamp
	}
	v, ok := e.Get(name)
	if !ok {
		return nil
	}
	if numeric {
		return Numeric(v)
	}
	return v.Any()
}

// messageString views the message as a string without copying it. Message
// bytes are immutable once an event is emitted (see package event), so the
// view stays valid for as long as anyone holds it.
func messageString(e *event.Event) string {
	if len(e.Message) == 0 {
		return ""
	}
	return unsafe.String(&e.Message[0], len(e.Message))
}

// Numeric returns the value an expression sees when v is compared with a
// number: integers as int64, floats as float64, strings holding a decimal
// number ("503", "-1.5", "2e3") as that number, anything else unchanged.
func Numeric(v event.Value) any {
	if v.Kind() == event.KindString {
		return numericString(v.Str())
	}
	return v.Any()
}

func numericString(s string) any {
	if !looksNumeric(s) {
		return s
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// looksNumeric accepts [+-]digits[.digits][(e|E)[+-]digits], the decimal
// forms only: no hex, no inf or nan, no spaces.
func looksNumeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
