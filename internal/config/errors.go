package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a config file, with its position and the
// component it concerns.
type Error struct {
	File      string
	Line, Col int
	// Component is "sources.nginx" style, or "" for top-level problems.
	Component string
	Msg       string
	// Hint says how to fix it, when there is something useful to say.
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Component != "" {
		b.WriteString(e.Component + ": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: " + e.Hint + ")")
	}
	return b.String()
}

// ErrorList is every problem found in one config, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
