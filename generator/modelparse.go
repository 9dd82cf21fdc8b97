package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// modelKeys are the keys a metric's mapping may hold: one model, or choice
// with its weights.
var modelKeys = []string{"choice", "weights", "value", "uniform", "walk", "sine", "ramp", "spike", "replay",
	"expr", "vars", "min", "max", "format", "decimals"}

// ParseModel parses one metric model given in the config's form, as YAML or
// JSON: a scalar ("2", a constant), a list (["1","2"], a uniform choice),
// {"value": "2"} (a constant), or a mapping with one model key such as
// {"sine": {"min": "10", "max": "110", "period": "10m"}}. Replay files are
// read relative to baseDir. It validates like Parse and returns the model
// and its Spec (see MetricSpec.Spec). Errors are *FieldError values, joined,
// naming the field ("sine.period: must be > 0") without file positions.
// Safe for concurrent use.
func ParseModel(data []byte, baseDir string) (Model, any, error) {
	p := &parser{baseDir: baseDir, noPos: true, replays: map[string]*Replay{}, what: "a model"}
	root := p.document(yamlOrJSON(data))
	if root == nil {
		return nil, nil, p.err()
	}
	m, spec, ok := p.model(root, root, "")
	if !ok {
		return nil, nil, p.err()
	}
	return m, spec, nil
}

// yamlOrJSON returns data ready for the YAML parser: JSON compacted
// (compact JSON is YAML too; indented JSON may hold tabs, which YAML
// refuses), anything else as it is.
func yamlOrJSON(data []byte) []byte {
	if json.Valid(data) {
		var buf bytes.Buffer
		if json.Compact(&buf, data) == nil {
			return buf.Bytes()
		}
	}
	return data
}

// model parses the definition v of a metric (at is its key, where errors
// point) into a model and its spec; ok is false when a problem was recorded.
// A definition written the same way as one parsed before (100,000
// deployments with one expression) gets a clone of that model and shares
// its spec: the file's memory, not the parse, is what grows with it.
func (p *parser) model(at, v *yaml.Node, field string) (Model, any, bool) {
	key, cacheable := modelKey(v)
	return p.keyedModel(at, v, field, key, cacheable)
}

// keyedModel is model with v's modelKey already made.
func (p *parser) keyedModel(at, v *yaml.Node, field, key string, cacheable bool) (Model, any, bool) {
	if cacheable {
		if hit, ok := p.models[key]; ok {
			return CloneModel(hit.model), hit.spec, true
		}
	}
	m, spec, ok := p.parseModel(at, v, field)
	if ok && cacheable && len(p.models) < maxCachedModels {
		if p.models == nil {
			p.models = map[string]cachedModel{}
		}
		p.models[key] = cachedModel{model: CloneModel(m), spec: spec} // a clone: m is the caller's to run
	}
	return m, spec, ok
}

// Bounds of the model memo: definitions are small, and a file of many
// different ones gains nothing from it.
const (
	maxCachedModels = 4096
	maxModelKey     = 1024
)

// maxCachedMetricSets bounds the memo of whole metrics lists (see
// parser.metrics).
const maxCachedMetricSets = 1024

type cachedModel struct {
	model Model
	spec  any
}

// modelKey is the text of a definition's node tree: two definitions with
// the same key parse to the same model. Not cacheable: aliases, long
// definitions, or anything odd.
func modelKey(n *yaml.Node) (string, bool) {
	var b strings.Builder
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n == nil || n.Kind == yaml.AliasNode || b.Len() > maxModelKey {
			return false
		}
		b.WriteByte(byte('0' + n.Kind))
		b.WriteString(n.Tag)
		b.WriteByte(0)
		b.WriteString(n.Value)
		b.WriteByte(0)
		for _, c := range n.Content {
			if !walk(c) {
				return false
			}
		}
		b.WriteByte(1)
		return true
	}
	if !walk(n) || b.Len() > maxModelKey {
		return "", false
	}
	return b.String(), true
}

// parseModel is model without the memo.
func (p *parser) parseModel(at, v *yaml.Node, field string) (Model, any, bool) {
	n := resolve(v)
	switch {
	case n == nil || n.Kind == yaml.ScalarNode:
		text, ok := p.value(at, n, field)
		if !ok {
			return nil, nil, false
		}
		return &Constant{value: valueOf(text)}, text, true
	case n.Kind == yaml.SequenceNode:
		values, texts, ok := p.list(at, n, field)
		if !ok {
			return nil, nil, false
		}
		return &Choice{Values: values}, texts, true
	}
	entries, keys, ok := p.mapping(at, n, field, modelKeys...)
	if !ok {
		return nil, nil, false
	}
	if len(p.errs) > 0 && len(entries) < len(n.Content)/2 {
		return nil, nil, false // an unknown or duplicate key, already reported
	}
	if len(entries) == 0 {
		p.fail(at, field, "empty mapping: want a list, a value or one of: %s", strings.Join(modelKeys, ", "))
		return nil, nil, false
	}
	if _, ok := keys["expr"]; ok {
		return p.expr(at, entries, keys, field)
	}
	for _, k := range exprKeys[1:] {
		if e, ok := keys[k]; ok {
			p.fail(e.key, join(field, k), "%s without expr", k)
			return nil, nil, false
		}
	}
	if _, ok := keys["choice"]; ok {
		return p.weighted(entries, keys, field)
	}
	if w, ok := keys["weights"]; ok {
		p.fail(w.key, join(field, "weights"), "weights without choice")
		return nil, nil, false
	}
	if len(entries) > 1 {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.key.Value
		}
		p.fail(at, field, "one model per metric, got %s", strings.Join(names, ", "))
		return nil, nil, false
	}
	e := entries[0]
	f := join(field, e.key.Value)
	if e.key.Value == "value" {
		text, ok := p.value(e.key, e.val, f)
		if !ok {
			return nil, nil, false
		}
		return &Constant{value: valueOf(text)}, text, true
	}
	var pr *params
	var m Model
	switch e.key.Value {
	case "uniform":
		pr = p.params(e, f, []string{"min", "max"}, "step")
		m, ok = p.uniform(pr)
	case "walk":
		pr = p.params(e, f, []string{"start", "min", "max", "step"})
		m, ok = p.walk(pr)
	case "sine":
		pr = p.params(e, f, []string{"min", "max", "period"}, "phase")
		m, ok = p.sine(pr)
	case "ramp":
		pr = p.params(e, f, []string{"from", "to", "over"})
		m, ok = p.ramp(pr)
	case "spike":
		pr = p.params(e, f, []string{"base", "peak", "every", "for"})
		m, ok = p.spike(pr)
	default: // "replay": mapping accepted only modelKeys
		pr = p.params(e, f, []string{"file", "column"})
		m, ok = p.replay(pr)
	}
	if !ok {
		return nil, nil, false
	}
	return m, map[string]any{e.key.Value: pr.spec}, true
}

// value parses a value sent as written (a constant, a list item).
func (p *parser) value(at, n *yaml.Node, field string) (string, bool) {
	text, ok := p.scalar(at, n, field)
	if !ok {
		return "", false
	}
	if msg := valueProblem(text); msg != "" {
		p.fail(at, field, "%s", msg)
		return "", false
	}
	return text, true
}

// list parses a non-empty list of values sent as written.
func (p *parser) list(at, n *yaml.Node, field string) ([]Value, []string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.fail(at, field, "want a list, got %s", kindName(n))
		return nil, nil, false
	}
	if len(n.Content) == 0 {
		p.fail(at, field, "empty list")
		return nil, nil, false
	}
	values := make([]Value, 0, len(n.Content))
	texts := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		r := resolve(item)
		if r != nil && r.Kind != yaml.ScalarNode {
			p.fail(item, f, "want a value, got %s (a list holds values only)", kindName(r))
			ok = false
			continue
		}
		text, good := p.value(item, item, f)
		if !good {
			ok = false
			continue
		}
		values = append(values, valueOf(text))
		texts = append(texts, text)
	}
	return values, texts, ok
}

// weighted parses {choice: [...], weights: [...]}.
func (p *parser) weighted(entries []entry, keys map[string]entry, field string) (Model, any, bool) {
	for _, e := range entries {
		if e.key.Value != "choice" && e.key.Value != "weights" {
			p.fail(e.key, join(field, e.key.Value), "choice takes only weights beside it")
			return nil, nil, false
		}
	}
	c := keys["choice"]
	values, texts, ok := p.list(c.key, c.val, join(field, "choice"))
	spec := map[string]any{"choice": texts}
	w, hasWeights := keys["weights"]
	if !hasWeights {
		if !ok {
			return nil, nil, false
		}
		return &Choice{Values: values}, spec, true
	}
	wf := join(field, "weights")
	_, wtexts, wok := p.list(w.key, w.val, wf)
	if !ok || !wok {
		return nil, nil, false
	}
	if len(wtexts) != len(values) {
		p.fail(w.key, wf, "%d weights for %d choices", len(wtexts), len(values))
		return nil, nil, false
	}
	cum := make([]float64, len(wtexts))
	total := 0.0
	items := resolve(w.val).Content
	for i, t := range wtexts {
		n, err := parseNumber(t)
		switch {
		case err != nil:
			p.fail(items[i], fmt.Sprintf("%s[%d]", wf, i), "%v", err)
			ok = false
		case n.v < 0:
			p.fail(items[i], fmt.Sprintf("%s[%d]", wf, i), "must be >= 0, got %s", t)
			ok = false
		default:
			total += n.v
		}
		cum[i] = total
	}
	if !ok {
		return nil, nil, false
	}
	if total <= 0 {
		p.fail(w.key, wf, "all weights are 0")
		return nil, nil, false
	}
	spec["weights"] = wtexts
	return &Weighted{values: values, cum: cum}, spec, true
}
