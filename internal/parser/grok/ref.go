package grok

import (
	"strings"

	"github.com/sluice-log/sluice/internal/parser/regex"
)

// ref is a parsed %{NAME:field:type}.
type ref struct {
	name, field string
	typ         regex.Type
}

// reference parses the inside of a reference, s being the text after
// "%{", and returns the rest of the text after the closing brace. It
// reports false unless s starts with a well-formed reference whose name
// begins with a letter or '_'.
func reference(s string) (ref, string, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return ref{}, "", false
	}
	parts := strings.Split(s[:end], ":")
	if len(parts) > 3 || !validName(parts[0]) || isDigit(parts[0][0]) {
		return ref{}, "", false
	}
	r := ref{name: parts[0]}
	if len(parts) >= 2 {
		if parts[1] == "" {
			return ref{}, "", false
		}
		r.field = parts[1]
	}
	if len(parts) == 3 {
		t, ok := parseType(parts[2])
		if !ok {
			return ref{}, "", false
		}
		r.typ = t
	}
	return r, s[end+1:], true
}

func parseType(s string) (regex.Type, bool) {
	switch strings.ToLower(s) {
	case "int", "long":
		return regex.TypeInt, true
	case "float", "double":
		return regex.TypeFloat, true
	case "bool", "boolean":
		return regex.TypeBool, true
	case "string":
		return regex.TypeString, true
	}
	return 0, false
}

// validName reports whether s is a pattern name: letters, digits and '_'.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isRepeat reports whether s is the inside of a regexp repetition {n},
// {n,} or {n,m}.
func isRepeat(s string) bool {
	lo, hi, comma := strings.Cut(s, ",")
	if !allDigits(lo) || lo == "" {
		return false
	}
	return !comma || allDigits(hi)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
