package template

import (
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/sluice-log/sluice/internal/event"
)

// The rewrite turns every field reference of a parsed template into a call
// of the get helper, so that `.status` means "the status field of the
// event" whatever the data is: text/template itself would need a map of the
// whole event and would print "<no value>" for missing keys.
//
//	{{ .http.status }}      → {{ (get . "http.status") }}
//	{{ $.host }}            → {{ (get $ "host") }}
//	{{ .timestamp.Unix }}   → {{ (get . "timestamp").Unix }}

func rewriteList(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			rewritePipe(n.Pipe)
		case *parse.IfNode:
			rewriteBranch(&n.BranchNode)
		case *parse.RangeNode:
			rewriteBranch(&n.BranchNode)
		case *parse.WithNode:
			rewriteBranch(&n.BranchNode)
		case *parse.TemplateNode:
			rewritePipe(n.Pipe)
		case *parse.ListNode:
			rewriteList(n)
		}
	}
}

func rewriteBranch(b *parse.BranchNode) {
	rewritePipe(b.Pipe)
	rewriteList(b.List)
	rewriteList(b.ElseList)
}

func rewritePipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for i, a := range c.Args {
			c.Args[i] = rewriteArg(a)
		}
	}
}

func rewriteArg(a parse.Node) parse.Node {
	switch a := a.(type) {
	case *parse.FieldNode:
		return getter(&parse.DotNode{NodeType: parse.NodeDot, Pos: a.Pos}, a.Ident, a.Pos)
	case *parse.VariableNode:
		if len(a.Ident) > 1 {
			root := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: a.Ident[:1]}
			return getter(root, a.Ident[1:], a.Pos)
		}
	case *parse.PipeNode:
		rewritePipe(a)
	case *parse.ChainNode:
		a.Node = rewriteArg(a.Node)
	}
	return a
}

// getter builds the call get(from, path). Past a timestamp the rest of the
// chain stays a field/method chain on the time value.
func getter(from parse.Node, ident []string, pos parse.Pos) parse.Node {
	path, rest := strings.Join(ident, "."), []string(nil)
	if ident[0] == event.KeyTimestamp && len(ident) > 1 {
		path, rest = ident[0], ident[1:]
	}
	call := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{{
		NodeType: parse.NodeCommand, Pos: pos,
		Args: []parse.Node{
			parse.NewIdentifier("get").SetPos(pos),
			from,
			&parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(path), Text: path},
		},
	}}}
	if rest == nil {
		return call
	}
	return &parse.ChainNode{NodeType: parse.NodeChain, Pos: pos, Node: call, Field: rest}
}
