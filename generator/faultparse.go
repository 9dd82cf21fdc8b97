package generator

import (
	"fmt"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// maxFaultTimes bounds duplicate and burst copies, so one message cannot
// turn into millions.
const maxFaultTimes = 10_000

// faultMetricRef is a metric named by a fault, checked once the metrics
// it may name are known.
type faultMetricRef struct {
	node  *yaml.Node
	field string
	name  string
}

// faultKeys are the keys of a `faults:` mapping.
var faultKeys = func() []string {
	keys := make([]string, len(FaultKinds))
	for i, k := range FaultKinds {
		keys[i] = string(k)
	}
	return keys
}()

// faults parses a `faults:` section. The metrics it names are returned
// for the caller to check against the deployments they apply to.
func (p *parser) faults(e entry, field string) (*Faults, []faultMetricRef, bool) {
	entries, _, ok := p.mapping(e.key, e.val, field, faultKeys...)
	if !ok {
		return nil, nil, false
	}
	before := len(p.errs)
	f := &Faults{}
	spec := map[string]any{}
	var refs []faultMetricRef
	for _, kind := range FaultKinds { // FaultKinds order, whatever the file's
		for _, ke := range entries {
			if ke.key.Value != string(kind) {
				continue
			}
			s, kindSpec, kindRefs := p.faultSpec(kind, ke, join(field, string(kind)))
			f.Specs = append(f.Specs, s)
			spec[string(kind)] = kindSpec
			refs = append(refs, kindRefs...)
		}
	}
	f.Spec = spec
	return f, refs, len(p.errs) == before
}

// faultSpec parses one kind's mapping.
func (p *parser) faultSpec(kind FaultKind, e entry, field string) (FaultSpec, map[string]any, []faultMetricRef) {
	optional := []string{"p", "every", "for"}
	switch kind {
	case FaultDuplicate, FaultBurst:
		optional = append(optional, "times")
	case FaultDelay, FaultStale:
		optional = append(optional, "by")
	case FaultCorrupt:
		optional = append(optional, "metrics", "values")
	case FaultOmit:
		optional = append(optional, "metrics")
	}
	pr := p.params(e, field, nil, optional...)
	s := FaultSpec{Kind: kind}
	spec := map[string]any{}
	if !pr.ok {
		return s, spec, nil
	}
	p.faultWhen(pr, &s)
	switch kind {
	case FaultDuplicate:
		s.Times = faultTimes(pr, 1)
	case FaultBurst:
		s.Times = faultTimes(pr, 100)
	case FaultDelay:
		s.By = faultBy(pr, 30*time.Second)
	case FaultStale:
		s.By = faultBy(pr, 10*time.Minute)
	}
	var refs []faultMetricRef
	if m, ok := pr.keys["metrics"]; ok {
		names, good := p.stringList(m, join(field, "metrics"), false)
		for i, n := range names {
			if msg := metricNameProblem(n); msg != "" {
				p.fail(resolve(m.val).Content[i], fmt.Sprintf("%s.metrics[%d]", field, i), "%s", msg)
				good = false
				continue
			}
			refs = append(refs, faultMetricRef{node: resolve(m.val).Content[i], field: fmt.Sprintf("%s.metrics[%d]", field, i), name: n})
		}
		if good {
			s.Metrics, spec["metrics"] = names, names
		}
	}
	if kind == FaultCorrupt {
		s.Values = DefaultCorruptValues
		if v, ok := pr.keys["values"]; ok {
			if values, good := p.stringList(v, join(field, "values"), true); good {
				s.Values, spec["values"] = values, values
			}
		}
	}
	for k, v := range pr.spec {
		spec[k] = v
	}
	return s, spec, refs
}

// faultWhen reads p, or every and for: exactly one of the two ways.
func (p *parser) faultWhen(pr *params, s *FaultSpec) {
	switch {
	case pr.has("p") && (pr.has("every") || pr.has("for")):
		pr.fail("p", "give p or every and for, not both")
	case pr.has("p"):
		text := pr.text("p")
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || v < 0 || v > 1 {
			pr.fail("p", "want a probability in [0, 1], got %q", text)
			return
		}
		s.P = v
	case pr.has("every") || pr.has("for"):
		if !pr.has("every") || !pr.has("for") {
			missing := "for"
			if !pr.has("every") {
				missing = "every"
			}
			pr.fail(missing, "missing: a schedule needs every and for")
			return
		}
		s.Every, s.For = pr.dur("every", true), pr.dur("for", true)
		if s.Every > 0 && s.For > s.Every {
			pr.fail("for", "must be <= every (%s), got %s", pr.spec["every"], pr.spec["for"])
		}
	default:
		pr.p.fail(pr.at.key, pr.field, "missing p (a probability per message) or every and for (a schedule)")
		pr.ok = false
	}
}

func faultTimes(pr *params, def int) int {
	if !pr.has("times") {
		return def
	}
	text := pr.text("times")
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > maxFaultTimes {
		pr.fail("times", "want an integer between 1 and %d, got %q", maxFaultTimes, text)
		return def
	}
	return n
}

func faultBy(pr *params, def time.Duration) time.Duration {
	if !pr.has("by") {
		return def
	}
	return pr.dur("by", true)
}

// stringList reads a non-empty list of scalars; empty strings are allowed
// only with allowEmpty (corrupt's values: "" is a value an operator sees).
func (p *parser) stringList(e entry, field string, allowEmpty bool) ([]string, bool) {
	n := resolve(e.val)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.fail(e.key, field, "want a list, got %s", kindName(n))
		return nil, false
	}
	if len(n.Content) == 0 {
		p.fail(e.key, field, "empty list")
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		r := resolve(item)
		if r == nil || r.Kind != yaml.ScalarNode || (r.Tag == "!!null" && !allowEmpty) {
			p.fail(item, f, "want a value, got %s", kindName(r))
			ok = false
			continue
		}
		text := r.Value
		if r.Tag == "!!null" {
			text = ""
		}
		if text == "" && !allowEmpty {
			p.fail(item, f, "empty")
			ok = false
			continue
		}
		out = append(out, text)
	}
	return out, ok
}

// checkFaultMetrics reports refs that name no metric known reports true for.
func (p *parser) checkFaultMetrics(refs []faultMetricRef, known func(string) bool, where string) {
	for _, r := range refs {
		if !known(r.name) {
			p.fail(r.node, r.field, "unknown metric %q: no metric of %s has that name", r.name, where)
		}
	}
}

// ParseFaults parses a `faults:` section given in the config's form, as
// YAML or JSON (the control API's body). known reports the metric names
// the faults may name; where names their owner in errors ("web-0", "any
// deployment"). Errors are *FieldError values, joined, without positions.
// Safe for concurrent use.
func ParseFaults(data []byte, known func(string) bool, where string) (*Faults, error) {
	p := &parser{noPos: true, what: "faults"}
	root := p.document(yamlOrJSON(data))
	if root == nil {
		return nil, p.err()
	}
	f, refs, ok := p.faults(entry{key: root, val: root}, "")
	if ok {
		p.checkFaultMetrics(refs, known, where)
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return f, nil
}
