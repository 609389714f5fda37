package mtail

import (
	"fmt"
	"time"
)

// Error is a compile error at a position of a program.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// pos is a node's position in its program.
type pos struct{ line, col int }

// Kind is a metric kind; the numbers are mtail's (its JSON "Kind").
type Kind int

// The metric kinds.
const (
	Counter   Kind = 1
	Gauge     Kind = 2
	Timer     Kind = 3
	Text      Kind = 4
	Histogram Kind = 5
)

var kindNames = map[string]Kind{"counter": Counter, "gauge": Gauge, "timer": Timer, "text": Text, "histogram": Histogram}

func (k Kind) String() string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "unknown"
}

// Type is a value type; the numbers are mtail's (its JSON "Type").
type Type int

// The value types; tBool, tPattern and tNone exist only in the checker.
const (
	Int Type = iota
	Float
	String
	Buckets
	tyBool
	tyPattern
	tyNone
)

func (t Type) String() string {
	return [...]string{"Int", "Float", "String", "Buckets", "Bool", "Pattern", "None"}[t]
}

// Statements.
type (
	stmt interface{ at() pos }

	declStmt struct {
		pos
		kind     Kind
		name     string
		export   string
		keys     []string
		hidden   bool
		limit    int
		buckets  []float64
		srcRange string // "line:col-endcol" for Source and HELP
	}
	condStmt struct {
		pos
		cond expr
		then []stmt
		els  []stmt // nil: no else
		// otherwise marks an `otherwise` block: it runs when no earlier
		// condition in the same block matched.
		otherwise bool
	}
	exprStmt struct {
		pos
		x expr
	}
	delStmt struct {
		pos
		target *indexExpr
		after  time.Duration
	}
	stopStmt struct{ pos }
	nextStmt struct{ pos }
	// decoStmt is `@name { ... }`, expanded by the parser into the def's body.
)

// Expressions.
type (
	expr interface{ at() pos }

	intLit struct {
		pos
		v int64
	}
	floatLit struct {
		pos
		v float64
	}
	strLit struct {
		pos
		v string
	}
	// patternExpr is a regex built from literals and consts; as a
	// condition on its own it matches the line.
	patternExpr struct {
		pos
		src string
		id  int // index in the program's pattern table, set by the checker
		// onLine: this pattern matches the input line (a condition), not a
		// string on the left of =~.
		onLine bool
	}
	capRef struct {
		pos
		name string
		// Set by the checker: which pattern and group, and the group's type.
		pat, group int
		typ        Type
	}
	// indexExpr is a metric reference with its label expressions (none for
	// an unlabelled metric).
	indexExpr struct {
		pos
		name string
		keys []expr
		m    *metric // set by the checker
	}
	callExpr struct {
		pos
		fn   string
		args []expr
	}
	binaryExpr struct {
		pos
		op   string
		l, r expr
	}
	unaryExpr struct {
		pos
		op string
		x  expr
	}
	matchExpr struct {
		pos
		not bool
		l   expr
		re  expr // a patternExpr, or a string expression compiled at run time
	}
)

func (p pos) at() pos { return p }
