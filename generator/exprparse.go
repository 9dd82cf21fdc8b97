package generator

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// exprKeys are the keys of an expr model, all beside expr in the metric's
// mapping: {expr: "...", vars: {...}, min: .., max: .., format: .., decimals: ..}.
var exprKeys = []string{"expr", "vars", "min", "max", "format", "decimals"}

// maxExprDecimals bounds `decimals`, as float64 holds ~15 significant digits.
const maxExprDecimals = 15

// expr parses an expr model: the metric's mapping holds expr and the keys
// of exprKeys beside it (at is the metric's key).
func (p *parser) expr(at *yaml.Node, entries []entry, keys map[string]entry, field string) (Model, any, bool) {
	for _, e := range entries {
		if !contains(exprKeys, e.key.Value) {
			p.fail(e.key, join(field, e.key.Value), "expr takes only %s beside it", strings.Join(exprKeys[1:], ", "))
			return nil, nil, false
		}
	}
	before := len(p.errs)
	spec := map[string]any{}
	ex := keys["expr"]
	ef := join(field, "expr")
	text, textOK := p.scalar(ex.key, ex.val, ef)
	spec["expr"] = text

	type exprVarDef struct {
		name  string
		model Model
	}
	var vars []exprVarDef
	quant, binary := false, false
	if v, ok := keys["vars"]; ok {
		vf := join(field, "vars")
		ents, _, ok := p.mapping(v.key, v.val, vf)
		if ok && len(ents) == 0 {
			p.fail(v.key, vf, "empty mapping: name each var and give it a model, or leave vars out")
		}
		varSpecs := make(map[string]any, len(ents))
		for _, ve := range ents {
			name, nf := ve.key.Value, join(vf, ve.key.Value)
			if msg := p.varNameProblem(name); msg != "" {
				p.fail(ve.key, nf, "%s", msg)
				continue
			}
			m, s, ok := p.model(ve.key, ve.val, nf)
			if !ok {
				continue
			}
			numeric, q, b := varKind(m)
			if _, nested := m.(*Expr); nested {
				p.fail(ve.key, nf, "a var cannot be an expr: combine the expressions into one")
				continue
			}
			if !numeric {
				p.fail(ve.key, nf, "a var must be numeric: every value its model sends must be a number or quantity")
				continue
			}
			quant, binary = quant || q, binary || b
			vars = append(vars, exprVarDef{name, m})
			varSpecs[name] = s
		}
		spec["vars"] = varSpecs
	}

	pr := &params{p: p, at: entry{key: at}, field: field, keys: keys, spec: map[string]string{}, ok: true}
	lo, hi := pr.num("min"), pr.num("max")
	pr.ordered("min", "max", lo, hi)
	format := pr.text("format")
	if format != "" && format != "quantity" && format != "decimal" {
		pr.fail("format", "want quantity or decimal, got %q", format)
	}
	quantOut := format == "quantity" || format == "" && quant
	f := numFormat{quant: quantOut, binary: quantOut && binary, dec: noStepDecimals}
	if d := pr.text("decimals"); d != "" {
		n, err := strconv.Atoi(d)
		switch {
		case err != nil || n < 0 || n > maxExprDecimals:
			pr.fail("decimals", "want an integer from 0 to %d, got %q", maxExprDecimals, d)
		case quantOut:
			pr.fail("decimals", "applies to decimal output, and this expr sends quantities (format: quantity, or a var is a quantity): set format: decimal to send decimals")
		default:
			f.dec = n
		}
	}
	f.loose = lo.dec > f.dec || hi.dec > f.dec
	for k, v := range pr.spec {
		spec[k] = v
	}
	if !textOK || len(p.errs) > before {
		return nil, nil, false
	}
	// Sorted by name: one program per expression and var set, whatever the order.
	slices.SortFunc(vars, func(a, b exprVarDef) int { return strings.Compare(a.name, b.name) })
	names := make([]string, len(vars))
	models := make([]Model, len(vars))
	for i, v := range vars {
		names[i], models[i] = v.name, v.model
	}
	code, ok := p.compileExpr(text, names, ex.val, ef)
	if !ok {
		return nil, nil, false
	}
	var lop, hip *float64
	if lo.ok {
		lop = &lo.v
	}
	if hi.ok {
		hip = &hi.v
	}
	return newExpr(code, names, models, lop, hip, f), spec, true
}

// varKind tells whether every value m sends is a number, and whether any
// is a quantity (binary: with Ki, Mi, ...).
func varKind(m Model) (numeric, quant, binary bool) {
	switch m := m.(type) {
	case *Constant:
		return valuesKind([]Value{m.value})
	case *Choice:
		return valuesKind(m.Values)
	case *Weighted:
		return valuesKind(m.values)
	case *Replay:
		return valuesKind(m.values)
	case *Uniform:
		return true, m.f.quant, m.f.binary
	case *Walk:
		return true, m.f.quant, m.f.binary
	case *Sine:
		return true, m.f.quant, m.f.binary
	case *Ramp:
		return true, m.f.quant, m.f.binary
	case *Spike:
		return true, m.f.quant, m.f.binary
	}
	return false, false, false
}

func valuesKind(vs []Value) (numeric, quant, binary bool) {
	for _, v := range vs {
		if !v.HasNum {
			return false, false, false
		}
		if n, err := parseNumber(v.Text); err == nil {
			quant, binary = quant || n.quant, binary || n.binary
		}
	}
	return true, quant, binary
}
