// Package expr compiles and evaluates the expressions that filter, route and
// other components use as conditions, with github.com/expr-lang/expr as the
// engine.
//
// An expression sees one event: its fields as top-level names plus message,
// host, stream and timestamp. Names are resolved at compile time, so each
// evaluation fills only the handful of values the expression reads into a
// pooled environment instead of converting the whole event. Unknown names
// are not errors: they evaluate to nil, since fields exist only at run time.
package expr

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	exprlang "github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/sluice-log/sluice/internal/event"
)

// Program is a compiled expression. It is safe for concurrent use.
type Program struct {
	src  string
	prog *vm.Program
	// vars are the event values the expression reads, in a fixed order.
	vars []variable
	// all is set when the expression reads $env dynamically, so the whole
	// event has to be put into the environment.
	all  bool
	pool sync.Pool // of *state
}

// state is the per-evaluation scratch space: a VM and its environment.
type state struct {
	vm  vm.VM
	env map[string]any
}

// Compile compiles src. Errors carry expr's position text (line:column and a
// caret under the offending token), so they can be shown to users as is.
func Compile(src string) (*Program, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	p := &patcher{declared: declaredNames(tree)}
	opts := append([]exprlang.Option{
		exprlang.Env(map[string]any{}),
		exprlang.AllowUndefinedVariables(),
		exprlang.Patch(p),
	}, functions()...)
	prog, err := exprlang.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	if err := checkCalls(prog, p.declared); err != nil {
		return nil, err
	}
	vars, all := collectVars(prog.Node(), p.declared)
	pr := &Program{src: src, prog: prog, vars: vars, all: all}
	pr.pool.New = func() any { return &state{env: make(map[string]any, len(vars))} }
	return pr, nil
}

// CompileCondition compiles src like Compile and also rejects expressions
// whose type is known at compile time and is not boolean ("status + 1").
func CompileCondition(src string) (*Program, error) {
	p, err := Compile(src)
	if err != nil {
		return nil, err
	}
	if t := p.prog.Node().Type(); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
		return nil, fmt.Errorf("condition %q is a %s, not a boolean expression (compare it: x == ..., x > ...)", src, t)
	}
	return p, nil
}

// MustCompile is Compile for expressions known to be valid; it panics otherwise.
func MustCompile(src string) *Program {
	p, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the source of p.
func (p *Program) String() string { return p.src }

// Vars lists the event names the expression reads, for documentation and
// tests. Names used in numeric comparisons appear once.
func (p *Program) Vars() []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range p.vars {
		if !seen[v.name] {
			seen[v.name] = true
			out = append(out, v.name)
		}
	}
	return out
}

// ErrNotBool is returned by Bool when the expression yields a value that is
// neither a boolean nor nil.
var ErrNotBool = errors.New("condition did not return a boolean")

// Bool evaluates p as a condition. A nil result (an expression that is just
// a missing field) is false. A runtime error, such as comparing a missing
// field with a number (nil >= 500), is returned with false; callers count it
// and treat the condition as not met.
func (p *Program) Bool(e *event.Event) (bool, error) {
	out, err := p.run(e)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("%w: %q returned a %T", ErrNotBool, p.src, out)
}

// Eval evaluates p and converts the result into an event value.
func (p *Program) Eval(e *event.Event) (event.Value, error) {
	out, err := p.run(e)
	if err != nil {
		return event.Value{}, err
	}
	return event.FromAny(out), nil
}

// Run evaluates p and returns the plain Go result.
func (p *Program) Run(e *event.Event) (any, error) { return p.run(e) }

func (p *Program) run(e *event.Event) (out any, err error) {
	s := p.pool.Get().(*state)
	p.fill(s.env, e)
	out, err = s.vm.Run(p.prog, s.env)
	p.reset(s.env)
	p.pool.Put(s)
	if err != nil {
		return nil, fmt.Errorf("evaluating %q: %w", p.src, err)
	}
	return out, nil
}

// checkCalls rejects calls of unknown functions, which expr accepts when
// undefined variables are allowed and which would fail on every event.
func checkCalls(prog *vm.Program, declared map[string]bool) error {
	known := map[string]bool{}
	for _, name := range functionNames {
		known[name] = true
	}
	bad := ast.Find(prog.Node(), func(n ast.Node) bool {
		c, ok := n.(*ast.CallNode)
		if !ok {
			return false
		}
		id, ok := c.Callee.(*ast.IdentifierNode)
		return ok && !known[id.Value] && !declared[id.Value]
	})
	if bad == nil {
		return nil
	}
	name := bad.(*ast.CallNode).Callee.(*ast.IdentifierNode).Value
	return (&file.Error{Location: bad.Location(), Message: fmt.Sprintf("unknown function %s", name)}).Bind(prog.Source())
}

// declaredNames returns the names bound by `let` in tree; they are not
// event fields.
func declaredNames(tree *parser.Tree) map[string]bool {
	d := map[string]bool{}
	ast.Find(tree.Node, func(n ast.Node) bool {
		if v, ok := n.(*ast.VariableDeclaratorNode); ok {
			d[v.Name] = true
		}
		return false
	})
	return d
}
