package expr

import (
	"strings"

	"github.com/expr-lang/expr/ast"
)

// numSuffix marks the environment key of a field's numeric view (see
// patcher). It cannot occur in a name written in an expression.
const numSuffix = "\x00num"

// envName is expr's name for the whole environment.
const envName = "$env"

// patcher rewrites the parsed expression before it is type-checked:
//
//   - member chains on event names with constant keys (http.status,
//     $env["user-agent"]) become one identifier holding the dotted path, so
//     the value is looked up directly in the event (event.Fields.Get
//     understands paths) instead of converting whole nested objects;
//   - a field compared with, or used in arithmetic with, a number literal
//     (status >= 500, bytes / 1024 > 1) reads the field's numeric view, in
//     which a string holding a number is that number.
type patcher struct {
	declared map[string]bool // names bound by let
}

// Visit implements ast.Visitor. Walk visits children first, so chains are
// folded from the innermost member outwards.
func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if name, ok := p.memberPath(n); ok {
			ast.Patch(node, &ast.IdentifierNode{Value: name})
		}
	case *ast.BinaryNode:
		p.numericOperands(n)
	}
}

// memberPath returns the dotted event path of a member access with a
// constant string key on an event name.
func (p *patcher) memberPath(n *ast.MemberNode) (string, bool) {
	id, ok := n.Node.(*ast.IdentifierNode)
	if !ok || n.Method || p.declared[id.Value] {
		return "", false
	}
	key, ok := n.Property.(*ast.StringNode)
	if !ok || key.Value == "" {
		return "", false
	}
	if id.Value == envName {
		if strings.HasSuffix(key.Value, numSuffix) {
			return "", false
		}
		return key.Value, true
	}
	// A key with a dot of its own cannot be told apart from a path.
	if strings.Contains(key.Value, ".") || strings.Contains(id.Value, "\x00") {
		return "", false
	}
	return id.Value + "." + key.Value, true
}

// numericOps are the operators whose event-field operand is read in its
// numeric view when the other operand is a number literal.
var numericOps = map[string]bool{
	"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"+": true, "-": true, "*": true, "/": true, "%": true, "**": true, "^": true,
}

func (p *patcher) numericOperands(n *ast.BinaryNode) {
	switch {
	case n.Operator == "in" || n.Operator == "not in":
		// status in 500..599, status in [200, 204]
		if isNumberList(n.Right) {
			p.toNumeric(&n.Left)
		}
	case numericOps[n.Operator]:
		if isNumber(n.Right) {
			p.toNumeric(&n.Left)
		}
		if isNumber(n.Left) {
			p.toNumeric(&n.Right)
		}
	}
}

// toNumeric switches an event-name operand to its numeric view.
func (p *patcher) toNumeric(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || id.Value == envName || p.declared[id.Value] || strings.HasSuffix(id.Value, numSuffix) {
		return
	}
	ast.Patch(node, &ast.IdentifierNode{Value: id.Value + numSuffix})
}

func isNumber(n ast.Node) bool {
	switch t := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		return true
	case *ast.UnaryNode:
		return (t.Operator == "-" || t.Operator == "+") && isNumber(t.Node)
	}
	return false
}

func isNumberList(n ast.Node) bool {
	switch t := n.(type) {
	case *ast.BinaryNode:
		return t.Operator == ".." && isNumber(t.Left) && isNumber(t.Right)
	case *ast.ArrayNode:
		for _, e := range t.Nodes {
			if !isNumber(e) {
				return false
			}
		}
		return len(t.Nodes) > 0
	}
	return false
}

// variable is one value the expression reads from the event.
type variable struct {
	key     string // environment key
	name    string // event attribute, field or dotted path
	numeric bool   // fill the numeric view
}

// collectVars lists the event names the compiled tree reads. all reports
// that $env is used other than with a constant key, so every field must be
// in the environment.
func collectVars(root ast.Node, declared map[string]bool) (vars []variable, all bool) {
	seen := map[string]bool{}
	callees := map[ast.Node]bool{}
	ast.Find(root, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallNode); ok {
			callees[c.Callee] = true
		}
		return false
	})
	ast.Find(root, func(n ast.Node) bool {
		id, ok := n.(*ast.IdentifierNode)
		if !ok || callees[n] || seen[id.Value] {
			return false
		}
		seen[id.Value] = true
		switch {
		case id.Value == envName:
			all = true
		case declared[id.Value]:
		default:
			name, numeric := strings.CutSuffix(id.Value, numSuffix)
			vars = append(vars, variable{key: id.Value, name: name, numeric: numeric})
		}
		return false
	})
	return vars, all
}
