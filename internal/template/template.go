// Package template renders Go text/template templates against one event, as
// the set transform, metric labels and sink paths use them.
//
// `{{ .status }}` reads the field or attribute status of the event (dotted
// paths reach into nested objects; a missing field renders as nothing), and
// helpers such as split, lower, replace and strftime take their subject as
// the last argument so they chain in pipelines. Templates that are plain text
// or only text and field references are rendered without text/template.
package template

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/sluice-log/sluice/internal/event"
)

// Template is a parsed template. It is safe for concurrent use.
type Template struct {
	src string
	t   *texttemplate.Template
	// segs is set when the template is only text and field references
	// (simple), or text, field references and chains (chained): Render
	// then appends the parts directly.
	segs    []segment
	simple  bool
	chained bool
	// static is the text of a template without actions.
	static   string
	isStatic bool
}

// segment is literal text or, when path is set, a field reference, passed
// through steps when there are any (a chain, chain.go).
type segment struct {
	text  string
	path  string
	steps []step
}

// Parse parses src. Errors carry text/template's line and column.
func Parse(src string) (*Template, error) {
	t, err := texttemplate.New("template").Funcs(funcs).Option("missingkey=zero").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing template %q: %w", src, err)
	}
	tpl := &Template{src: src, t: t}
	if len(t.Templates()) <= 1 {
		tpl.segs, tpl.simple = segments(t.Tree, false)
		if !tpl.simple {
			tpl.segs, tpl.chained = segments(t.Tree, true)
		}
	}
	if tpl.simple && len(tpl.segs) <= 1 && (len(tpl.segs) == 0 || tpl.segs[0].path == "") {
		tpl.isStatic = true
		if len(tpl.segs) == 1 {
			tpl.static = tpl.segs[0].text
		}
	}
	for _, sub := range t.Templates() {
		if sub.Tree != nil {
			rewriteList(sub.Tree.Root)
		}
	}
	return tpl, nil
}

// MustParse is Parse for templates known to be valid; it panics otherwise.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the source of t.
func (t *Template) String() string { return t.src }

// Static returns the text of a template without actions, which renders the
// same for every event.
func (t *Template) Static() (string, bool) { return t.static, t.isStatic }

// Render appends the template rendered for e to buf. On error buf is
// returned unchanged, without partial output.
func (t *Template) Render(buf []byte, e *event.Event) ([]byte, error) {
	if t.simple || t.chained {
		start := len(buf)
		for _, s := range t.segs {
			switch {
			case s.path == "":
				buf = append(buf, s.text...)
			case s.steps != nil:
				var err error
				if buf, err = appendChain(buf, e, s.path, s.steps); err != nil {
					return buf[:start], fmt.Errorf("rendering template %q: %w", t.src, err)
				}
			default:
				buf = appendField(buf, e, s.path)
			}
		}
		return buf, nil
	}
	w := writers.Get().(*bufWriter)
	w.buf = buf
	err := t.t.Execute(w, e)
	out := w.buf
	w.buf = nil
	writers.Put(w)
	if err != nil {
		return buf, fmt.Errorf("rendering template %q: %w", t.src, err)
	}
	return out, nil
}

// RenderString renders t for e as a string.
func (t *Template) RenderString(e *event.Event) (string, error) {
	if s, ok := t.Static(); ok {
		return s, nil
	}
	b, err := t.Render(nil, e)
	return string(b), err
}

type bufWriter struct{ buf []byte }

func (w *bufWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

var writers = sync.Pool{New: func() any { return new(bufWriter) }}

// segments splits a template made only of text and plain field references
// ({{ .a }}, {{ .a.b }}, {{ $.a }}), and chains if chains is set, into parts.
func segments(tree *parse.Tree, chains bool) ([]segment, bool) {
	if tree == nil || tree.Root == nil {
		return nil, true
	}
	var segs []segment
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			segs = append(segs, segment{text: string(n.Text)})
		case *parse.ActionNode:
			if path, ok := fieldRef(n.Pipe); ok {
				segs = append(segs, segment{path: path})
				continue
			}
			if !chains {
				return nil, false
			}
			path, steps, ok := chainRef(n.Pipe)
			if !ok {
				return nil, false
			}
			segs = append(segs, segment{path: path, steps: steps})
		default:
			return nil, false
		}
	}
	return mergeText(segs), true
}

// fieldRef returns the path of a pipeline that is one field reference.
func fieldRef(p *parse.PipeNode) (string, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return "", false
	}
	return argRef(p.Cmds[0].Args[0])
}

// argRef returns the path of an argument that is a field reference.
func argRef(n parse.Node) (string, bool) {
	var ident []string
	switch a := n.(type) {
	case *parse.FieldNode:
		ident = a.Ident
	case *parse.VariableNode:
		if a.Ident[0] != "$" || len(a.Ident) < 2 {
			return "", false
		}
		ident = a.Ident[1:]
	default:
		return "", false
	}
	if ident[0] == event.KeyTimestamp && len(ident) > 1 {
		return "", false // a method of the time, like .timestamp.Unix
	}
	return strings.Join(ident, "."), true
}

func mergeText(segs []segment) []segment {
	out := segs[:0]
	for _, s := range segs {
		if n := len(out); n > 0 && s.path == "" && out[n-1].path == "" {
			out[n-1].text += s.text
			continue
		}
		out = append(out, s)
	}
	return out
}

// appendField appends the text of an event attribute or field, exactly as
// text/template prints the value that get returns for it.
func appendField(buf []byte, e *event.Event, path string) []byte {
	switch path {
	case event.KeyMessage:
		return append(buf, e.Message...)
	case event.KeyTimestamp:
		return appendTime(buf, e.Timestamp)
	}
	v, ok := e.Get(path)
	if !ok {
		return buf
	}
	switch v.Kind() {
	case event.KindString, event.KindInt, event.KindBool:
		return v.AppendText(buf)
	case event.KindFloat:
		f, _ := v.Float()
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	case event.KindTime:
		return appendTime(buf, v.Time())
	case event.KindObject, event.KindArray:
		return appendJSON(buf, toAny(v))
	}
	return buf
}
