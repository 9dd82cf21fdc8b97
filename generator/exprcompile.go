package generator

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"gopkg.in/yaml.v3"
)

// stateVars are the variables every expression has besides its vars.
var stateVars = []string{"replicas", "ready", "allocation", "elapsed", "tick"}

// celReserved are CEL's reserved words and type names: no var may take them.
var celReserved = []string{"true", "false", "null", "in", "as", "break", "const", "continue", "else",
	"for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void",
	"while", "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"}

var celIdent = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)

// maxExprCost bounds CEL's static estimate of an evaluation's cost, so a
// config cannot stall every tick with nested comprehensions; an
// arithmetic expression costs a few steps. Checking the bound at load
// time keeps run-time cost tracking (2-4x slower) off the tick.
const maxExprCost = 100_000

// maxAllocationKeys is the size the cost estimate assumes for allocation.
const maxAllocationKeys = 1000

// exprSizes tells CEL's cost estimate how big allocation may be.
type exprSizes struct{}

// EstimateSize implements checker.CostEstimator.
func (exprSizes) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	if p := n.Path(); len(p) == 1 && p[0] == "allocation" {
		return &checker.SizeEstimate{Min: 0, Max: maxAllocationKeys}
	}
	return nil
}

// EstimateCallCost implements checker.CostEstimator: CEL's own estimates.
func (exprSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// compileExpr compiles text with the state variables and names (sorted) as
// doubles, once per distinct expression and var set in a parse: every
// deployment count makes, and every entry written alike, shares the
// program. A problem is recorded at its place in the file (at is the
// expression's node).
func (p *parser) compileExpr(text string, names []string, at *yaml.Node, field string) (*exprCode, bool) {
	key := text + "\x00" + strings.Join(names, "\x00")
	if c, ok := p.exprs[key]; ok {
		return c, true
	}
	base, err := p.exprEnv()
	if err != nil {
		p.fail(at, field, "%v", err)
		return nil, false
	}
	opts := make([]cel.EnvOption, len(names))
	for i, n := range names {
		opts[i] = cel.Variable(n, cel.DoubleType)
	}
	env, err := base.Extend(opts...)
	if err != nil {
		p.fail(at, field, "declare vars: %v", err)
		return nil, false
	}
	ast, iss := env.Compile(text)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			p.failInExpr(at, e.Location.Line(), e.Location.Column(), field, exprMessage(e.Message, names))
		}
		return nil, false
	}
	switch t := ast.OutputType(); t.Kind() {
	case types.DoubleKind, types.IntKind, types.UintKind:
	default:
		p.fail(at, field, "the result is %s, want a number (double, int or uint)", t)
		return nil, false
	}
	if est, err := env.EstimateCost(ast, exprSizes{}); err != nil {
		p.fail(at, field, "estimate cost: %v", err)
		return nil, false
	} else if est.Max > maxExprCost {
		p.fail(at, field, "too costly: up to %d steps an evaluation, at most %d (nested comprehensions over long lists?)", est.Max, maxExprCost)
		return nil, false
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		p.fail(at, field, "%v", err)
		return nil, false
	}
	c := &exprCode{text: text, prg: prg}
	if p.exprs == nil {
		p.exprs = make(map[string]*exprCode)
	}
	p.exprs[key] = c
	return c, true
}

// exprEnv is the CEL environment with the state variables, made once per parse.
func (p *parser) exprEnv() (*cel.Env, error) {
	if p.celEnv != nil {
		return p.celEnv, nil
	}
	env, err := cel.NewEnv(
		cel.Variable("replicas", cel.DoubleType),
		cel.Variable("ready", cel.DoubleType),
		cel.Variable("allocation", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("elapsed", cel.DoubleType),
		cel.Variable("tick", cel.DoubleType),
	)
	if err != nil {
		return nil, fmt.Errorf("CEL environment: %w", err)
	}
	p.celEnv = env
	return env, nil
}

// varNameProblem says why name cannot name a var, or "". The answer is
// kept per name: the CEL environment copies its function table for every
// question, and 100,000 deployments ask the same few.
func (p *parser) varNameProblem(name string) string {
	if msg, ok := p.varNames[name]; ok {
		return msg
	}
	msg := p.varNameProblemOnce(name)
	if p.varNames == nil {
		p.varNames = map[string]string{}
	}
	p.varNames[name] = msg
	return msg
}

func (p *parser) varNameProblemOnce(name string) string {
	switch {
	case !celIdent.MatchString(name):
		return "not a CEL identifier (letters, digits and _, not starting with a digit)"
	case contains(stateVars, name):
		return fmt.Sprintf("%q is a state variable (%s): name the var otherwise", name, strings.Join(stateVars, ", "))
	case contains(celReserved, name):
		return fmt.Sprintf("%q is a CEL built-in: name the var otherwise", name)
	}
	env, err := p.exprEnv()
	if err != nil {
		return err.Error()
	}
	if _, ok := env.Functions()[name]; ok {
		return fmt.Sprintf("%q is a CEL built-in: name the var otherwise", name)
	}
	for _, m := range env.Macros() {
		if m.Function() == name {
			return fmt.Sprintf("%q is a CEL built-in: name the var otherwise", name)
		}
	}
	return ""
}

// failInExpr records a problem at line and col (1-based line, 0-based
// column) of the expression held by node at. The place in the file is
// exact for an expression on one line, plain or quoted; for other styles
// it is the node's, and the message says where in the expression.
func (p *parser) failInExpr(at *yaml.Node, line, col int, field, msg string) {
	oneLine := line == 1 && !strings.Contains(at.Value, "\n")
	if p.noPos {
		if oneLine {
			p.fail(nil, field, "at column %d: %s", col+1, msg)
		} else {
			p.fail(nil, field, "at %d:%d of the expression: %s", line, col+1, msg)
		}
		return
	}
	n := *at
	if oneLine && exactStyle(at) {
		n.Column += col
		if at.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			n.Column++ // the opening quote
		}
	} else {
		msg = fmt.Sprintf("%s (at %d:%d of the expression)", msg, line, col+1)
	}
	p.fail(&n, field, "%s", msg)
}

// exactStyle reports whether at's text stands in the file as its value
// does, so a column in the value is a column in the file.
func exactStyle(at *yaml.Node) bool {
	switch {
	case at.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return false
	case at.Style&yaml.DoubleQuotedStyle != 0:
		return !strings.ContainsAny(at.Value, "\\\"")
	case at.Style&yaml.SingleQuotedStyle != 0:
		return !strings.Contains(at.Value, "'")
	}
	return true
}

// exprMessage rewrites CEL's checker messages for a config's reader.
func exprMessage(msg string, names []string) string {
	if rest, ok := strings.CutPrefix(msg, "undeclared reference to '"); ok {
		name, _, _ := strings.Cut(rest, "'")
		vars := append(slices.Clone(names), stateVars...)
		return fmt.Sprintf("unknown variable %q (variables: %s)", name, strings.Join(vars, ", "))
	}
	if rest, ok := strings.CutPrefix(msg, "Syntax error: "); ok {
		return "syntax error: " + rest
	}
	if strings.HasPrefix(msg, "found no matching overload") && strings.Contains(msg, "int") {
		return msg + " (every variable is a double: write 2.0, not 2)"
	}
	return msg
}
