package generator_test

import "strings"

// nested3 is three comprehensions over a list of 100: a million steps.
var nested3 = func() string {
	l := "[" + strings.Repeat("1.0,", 99) + "1.0]"
	return l + ".all(a, " + l + ".all(b, " + l + ".all(c, a + b + c > 0.0))) ? 1.0 : 0.0"
}()

// badExprs are expr models with known problems and the exact messages
// Parse gives (see badConfigs): each points at the offending character of
// the expression, or at the key.
var badExprs = []struct {
	name, yaml string
	want       []string
}{
	{"syntax error", metricYAML(`{expr: "load +", vars: {load: 1}}`),
		[]string{`bad.yaml:4:24: deployments[0].metrics.m.expr: syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`}},
	{"unknown variable, double-quoted", metricYAML(`{expr: "load / replcas", vars: {load: 1}}`),
		[]string{`bad.yaml:4:25: deployments[0].metrics.m.expr: unknown variable "replcas" (variables: load, replicas, ready, allocation, elapsed, tick)`}},
	{"unknown variable, plain", metricYAML(`{expr: replicas * 2.0 + x}`),
		[]string{`bad.yaml:4:34: deployments[0].metrics.m.expr: unknown variable "x" (variables: replicas, ready, allocation, elapsed, tick)`}},
	{"unknown variable, single-quoted", metricYAML(`{expr: 'ready / y'}`),
		[]string{`bad.yaml:4:26: deployments[0].metrics.m.expr: unknown variable "y" (variables: replicas, ready, allocation, elapsed, tick)`}},
	{"unknown variable, block style", "deployments:\n  - name: a\n    metrics:\n      m:\n        expr: |\n          replicas +\n            zz\n",
		[]string{`bad.yaml:5:15: deployments[0].metrics.m.expr: unknown variable "zz" (variables: replicas, ready, allocation, elapsed, tick) (at 2:3 of the expression)`}},
	{"result not a number", metricYAML(`{expr: "replicas > 1.0"}`),
		[]string{`bad.yaml:4:17: deployments[0].metrics.m.expr: the result is bool, want a number (double, int or uint)`}},
	{"result dyn", metricYAML(`{expr: "dyn(replicas)"}`),
		[]string{`bad.yaml:4:17: deployments[0].metrics.m.expr: the result is dyn, want a number (double, int or uint)`}},
	{"int and double", metricYAML(`{expr: "2 / replicas"}`),
		[]string{`bad.yaml:4:20: deployments[0].metrics.m.expr: found no matching overload for '_/_' applied to '(int, double)' (every variable is a double: write 2.0, not 2)`}},
	{"var named like a state variable", metricYAML(`{expr: "x", vars: {replicas: 1}}`),
		[]string{`bad.yaml:4:29: deployments[0].metrics.m.vars.replicas: "replicas" is a state variable (replicas, ready, allocation, elapsed, tick): name the var otherwise`}},
	{"var named like a CEL function", metricYAML(`{expr: "1.0", vars: {size: 1}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.size: "size" is a CEL built-in: name the var otherwise`}},
	{"var named like a CEL macro", metricYAML(`{expr: "1.0", vars: {exists_one: 1}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.exists_one: "exists_one" is a CEL built-in: name the var otherwise`}},
	{"var named like a CEL type", metricYAML(`{expr: "1.0", vars: {int: 1}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.int: "int" is a CEL built-in: name the var otherwise`}},
	{"var not an identifier", metricYAML(`{expr: "1.0", vars: {my-load: 1}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.my-load: not a CEL identifier (letters, digits and _, not starting with a digit)`}},
	{"var not numeric", metricYAML(`{expr: "1.0", vars: {tier: [gold, 1]}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.tier: a var must be numeric: every value its model sends must be a number or quantity`}},
	{"var model invalid", metricYAML(`{expr: "1.0", vars: {w: {sine: {min: 2, max: 1, period: 1m}}}}`),
		[]string{`bad.yaml:4:50: deployments[0].metrics.m.vars.w.sine.max: must be >= min (2), got 1`}},
	{"var is an expr", metricYAML(`{expr: "1.0", vars: {e: {expr: "2.0"}}}`),
		[]string{`bad.yaml:4:31: deployments[0].metrics.m.vars.e: a var cannot be an expr: combine the expressions into one`}},
	{"empty vars", metricYAML(`{expr: "1.0", vars: {}}`),
		[]string{`bad.yaml:4:24: deployments[0].metrics.m.vars: empty mapping: name each var and give it a model, or leave vars out`}},
	{"min above max, bad format", metricYAML(`{expr: "1.0", min: 2, max: 1, format: kilo}`),
		[]string{
			`bad.yaml:4:32: deployments[0].metrics.m.max: must be >= min (2), got 1`,
			`bad.yaml:4:40: deployments[0].metrics.m.format: want quantity or decimal, got "kilo"`,
		}},
	{"decimals out of range", metricYAML(`{expr: "1.0", decimals: 16}`),
		[]string{`bad.yaml:4:24: deployments[0].metrics.m.decimals: want an integer from 0 to 15, got "16"`}},
	{"decimals with quantity output", metricYAML(`{expr: "c", vars: {c: 500m}, decimals: 2}`),
		[]string{`bad.yaml:4:39: deployments[0].metrics.m.decimals: applies to decimal output, and this expr sends quantities (format: quantity, or a var is a quantity): set format: decimal to send decimals`}},
	{"vars without expr", metricYAML(`{vars: {a: 1}}`),
		[]string{`bad.yaml:4:11: deployments[0].metrics.m.vars: vars without expr`}},
	{"expr beside another model", metricYAML(`{expr: "1.0", ramp: {from: 1, to: 2, over: 1m}}`),
		[]string{`bad.yaml:4:24: deployments[0].metrics.m.ramp: expr takes only vars, min, max, format, decimals beside it`}},
	{"too costly", metricYAML(`{expr: "` + nested3 + `"}`),
		[]string{`bad.yaml:4:17: deployments[0].metrics.m.expr: too costly: up to 9141411 steps an evaluation, at most 100000 (nested comprehensions over long lists?)`}},
	{"expr not a scalar", metricYAML(`{expr: [1]}`),
		[]string{`bad.yaml:4:11: deployments[0].metrics.m.expr: want a value, got a list`}},
}
