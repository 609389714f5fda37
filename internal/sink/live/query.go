package live

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/expr"
)

// Query is what a follow, backlog or search request asks for, parsed from
// its URL parameters:
//
//	stream=NAME      (repeated) the streams; none means all of them
//	grep=REGEX       RE2, matched against the raw message
//	icase=1          grep ignores case
//	expr=COND        a condition in the expression language (docs/expressions.md)
//	since=SEQ|DUR    start at that seq in every stream, or that long ago (5m)
//	after=NAME:SEQ   (repeated) resume a stream after SEQ: a reconnecting client
//	last=N           start N lines back in every stream (follow)
//	before=SEQ       the window ends before SEQ (backlog)
//	limit=N          at most N lines (backlog, search)
type Query struct {
	Streams  []string
	Grep     *regexp.Regexp
	Expr     *expr.Program
	SinceSeq uint64
	HasSeq   bool          // SinceSeq is set
	SinceAgo time.Duration // > 0: start at now-SinceAgo
	After    map[string]uint64
	Last     int
	Before   uint64 // 0: the newest
	Limit    int
}

// Bounds on what a query may ask, so that a request cannot make the server
// compile a huge regex or hold a huge window.
const (
	maxQueryStreams = 256
	maxPatternLen   = 4096
	maxLimit        = 100000
	defaultLimit    = 1000
)

// ErrBadQuery is wrapped by every query parsing error (answered with 400).
var ErrBadQuery = errors.New("bad query")

func badQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadQuery, fmt.Sprintf(format, args...))
}

// ParseQuery parses URL parameters into a Query.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Streams: v["stream"], Limit: defaultLimit}
	if len(q.Streams) > maxQueryStreams {
		return q, badQuery("%d streams, at most %d", len(q.Streams), maxQueryStreams)
	}
	if err := q.parseFilters(v); err != nil {
		return q, err
	}
	if err := q.parseSince(v.Get("since")); err != nil {
		return q, err
	}
	for _, a := range v["after"] {
		i := strings.LastIndexByte(a, ':')
		if i < 0 {
			return q, badQuery("after=%q: want STREAM:SEQ", a)
		}
		seq, err := strconv.ParseUint(a[i+1:], 10, 64)
		if err != nil {
			return q, badQuery("after=%q: want STREAM:SEQ", a)
		}
		if q.After == nil {
			q.After = map[string]uint64{}
		}
		q.After[a[:i]] = seq
	}
	var err error
	if q.Last, err = intParam(v, "last", 0); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(v, "limit", defaultLimit); err != nil {
		return q, err
	}
	if b := v.Get("before"); b != "" {
		if q.Before, err = strconv.ParseUint(b, 10, 64); err != nil {
			return q, badQuery("before=%q: want a seq", b)
		}
	}
	return q, nil
}

func (q *Query) parseFilters(v url.Values) error {
	icase := v.Get("icase")
	switch icase {
	case "", "0", "false", "1", "true":
	default:
		return badQuery("icase=%q: want 1 or 0", icase)
	}
	if g := v.Get("grep"); g != "" {
		if len(g) > maxPatternLen {
			return badQuery("grep: %d bytes, at most %d", len(g), maxPatternLen)
		}
		if icase == "1" || icase == "true" {
			g = "(?i)" + g
		}
		re, err := regexp.Compile(g)
		if err != nil {
			return badQuery("grep: %v", err)
		}
		q.Grep = re
	}
	if x := v.Get("expr"); x != "" {
		if len(x) > maxPatternLen {
			return badQuery("expr: %d bytes, at most %d", len(x), maxPatternLen)
		}
		p, err := expr.CompileCondition(x)
		if err != nil {
			return badQuery("expr: %v", err)
		}
		q.Expr = p
	}
	return nil
}

func (q *Query) parseSince(s string) error {
	if s == "" {
		return nil
	}
	if seq, err := strconv.ParseUint(s, 10, 64); err == nil {
		q.SinceSeq, q.HasSeq = seq, true
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return badQuery("since=%q: want a seq (1234) or a positive duration (5m)", s)
	}
	q.SinceAgo = d
	return nil
}

func intParam(v url.Values, name string, def int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxLimit {
		return 0, badQuery("%s=%q: want a number from 0 to %d", name, s, maxLimit)
	}
	return n, nil
}

// matcher applies a query's filters to records, reusing its scratch.
type matcher struct {
	q       *Query
	scratch []byte
	errors  int // expression evaluation errors (not matched)
}

// match reports whether a record passes the grep and expr filters.
func (m *matcher) match(r *record, ts int64) bool {
	if m.q.Grep != nil && !m.q.Grep.Match(r.msg) {
		return false
	}
	if m.q.Expr == nil {
		return true
	}
	e, scratch, err := r.toEvent(ts, m.scratch)
	m.scratch = scratch
	if err != nil {
		m.errors++
		return false
	}
	ok, err := m.q.Expr.Bool(&e)
	if err != nil {
		m.errors++
	}
	return ok
}
