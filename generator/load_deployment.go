package generator

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The `deployments` list: each entry parsed, then expanded by `count`
// (expand.go).

// parsedDeployment is one entry of `deployments` before count expansion.
type parsedDeployment struct {
	// index is the entry's position in `deployments`, and namePos where
	// its name is written: all expand needs for its messages. No node or
	// field text is kept, so a batch of the list can be freed once parsed.
	index     int
	namePos   position
	name      string
	count     int // 0: no count
	interval  time.Duration
	metrics   []MetricSpec
	faults    *Faults // nil: the config's
	targets   map[string]string
	tolerance *Tolerance
	state     *State      // nil: no `state:`
	kube      *Kubernetes // its own merged over the config's; nil: neither
}

func (p *parser) deployments(e entry) []Deployment {
	if p.split != nil {
		return p.splitItems(e)
	}
	list := resolve(e.val)
	if list == nil || list.Kind != yaml.SequenceNode {
		p.fail(e.key, "deployments", "want a list, got %s", kindName(list))
		return nil
	}
	if len(list.Content) == 0 {
		p.fail(e.key, "deployments", "empty list")
		return nil
	}
	var parsed []parsedDeployment
	for i, item := range list.Content {
		if d, named := p.deployment(item, i); named {
			parsed = append(parsed, d)
		}
	}
	return p.expand(parsed)
}

// splitItems parses the items of a split file a batch at a time (see
// split.go). It gives up (p.bail) at the first batch that does not parse
// alone or item that has a problem: the whole document is parsed then.
func (p *parser) splitItems(e entry) []Deployment {
	if v := resolve(e.val); v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!null" {
		p.bail = true // the key has a value of its own on its line
		return nil
	}
	var parsed []parsedDeployment
	i := 0
	for _, b := range p.split.batches {
		items := b.nodes()
		if items == nil {
			p.bail = true
			return nil
		}
		for _, item := range items {
			d, named := p.deployment(item, i)
			if len(p.errs) > 0 {
				return nil
			}
			if named {
				parsed = append(parsed, d)
			}
			i++
		}
	}
	return p.expand(parsed)
}

// deployment parses one entry of `deployments`, reporting its problems;
// named is whether it has a name to check for duplicates.
func (p *parser) deployment(item *yaml.Node, index int) (d parsedDeployment, named bool) {
	field := deploymentField(index)
	d.index = index
	_, keys, ok := p.mapping(item, item, field, "name", "count", "interval", "metrics", "faults", "targets", "tolerance", "state", "kubernetes")
	if !ok {
		return d, false
	}
	if e, ok := keys["name"]; !ok {
		p.fail(item, join(field, "name"), "missing")
	} else if s, ok := p.scalar(e.key, e.val, join(field, "name")); ok {
		d.name, d.namePos, named = s, positionOf(e.key), true
	}
	if e, ok := keys["count"]; ok {
		if s, ok := p.scalar(e.key, e.val, join(field, "count")); ok {
			n, err := strconv.Atoi(s)
			switch {
			case err != nil:
				p.fail(e.key, join(field, "count"), "want an integer, got %q", s)
			case n < 1 || n > maxCount:
				p.fail(e.key, join(field, "count"), "must be between 1 and %d, got %d", maxCount, n)
			default:
				d.count = n
			}
		}
	}
	if e, ok := keys["interval"]; ok {
		d.interval, _ = p.interval(e, join(field, "interval"))
	}
	if e, ok := keys["metrics"]; !ok {
		p.fail(item, join(field, "metrics"), "missing")
	} else {
		d.metrics = p.metrics(e, join(field, "metrics"))
	}
	if e, ok := keys["faults"]; ok {
		f, refs, good := p.faults(e, join(field, "faults"))
		if good && d.metrics != nil {
			p.checkFaultMetrics(refs, func(n string) bool {
				return slices.ContainsFunc(d.metrics, func(m MetricSpec) bool { return m.Name == n })
			}, "this deployment")
		}
		d.faults = f
	}
	if e, ok := keys["targets"]; ok {
		d.targets = p.targets(e, join(field, "targets"), d.metrics)
	}
	if e, ok := keys["tolerance"]; ok {
		d.tolerance = p.tolerance(e, join(field, "tolerance"))
	}
	if e, ok := keys["state"]; ok {
		d.state = p.state(e, join(field, "state"))
	}
	d.kube = p.kube
	if e, ok := keys["kubernetes"]; ok {
		d.kube = p.kubernetes(e, join(field, "kubernetes"), false).merged(p.kube)
	}
	return d, named
}

func (p *parser) metrics(e entry, field string) []MetricSpec {
	entries, _, ok := p.mapping(e.key, e.val, field)
	if !ok {
		return nil
	}
	if len(entries) == 0 {
		p.fail(e.key, field, "no metrics")
		return nil
	}
	specs := make([]MetricSpec, 0, len(entries))
	good := true
	// setKey names the whole list while every definition in it can be
	// memoized (see parser.metricSets).
	var setKey strings.Builder
	shareable := true
	for _, m := range entries {
		mf := join(field, m.key.Value)
		if msg := metricNameProblem(m.key.Value); msg != "" {
			p.fail(m.key, mf, "%s", msg)
			good = false
			continue
		}
		key, cacheable := modelKey(m.val)
		model, spec, ok := p.keyedModel(m.key, m.val, mf, key, cacheable)
		if !ok {
			good = false
			continue
		}
		if shareable = shareable && cacheable; shareable {
			setKey.WriteString(m.key.Value)
			setKey.WriteByte(0)
			setKey.WriteString(key)
			setKey.WriteByte(1)
		}
		specs = append(specs, MetricSpec{Name: m.key.Value, Model: model, Spec: spec})
	}
	if !good {
		return nil
	}
	if shareable {
		// Alike lists are one list: read-only, like the definitions they
		// hold.
		if set, ok := p.metricSets[setKey.String()]; ok {
			return set
		}
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	if shareable && len(p.metricSets) < maxCachedMetricSets {
		if p.metricSets == nil {
			p.metricSets = map[string][]MetricSpec{}
		}
		p.metricSets[setKey.String()] = specs
	}
	return specs
}

// targets parses a deployment's `targets:`, metric: replicas |
// allocation.<metric> | none, for metrics it has.
func (p *parser) targets(e entry, field string, metrics []MetricSpec) map[string]string {
	entries, _, ok := p.mapping(e.key, e.val, field)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(entries))
	for _, t := range entries {
		f := join(field, t.key.Value)
		if metrics != nil && !slices.ContainsFunc(metrics, func(m MetricSpec) bool { return m.Name == t.key.Value }) {
			p.fail(t.key, f, "not a metric of this deployment")
			continue
		}
		v, ok := p.scalar(t.key, t.val, f)
		if !ok {
			continue
		}
		if msg := targetProblem(v); msg != "" {
			p.fail(t.key, f, "%s", msg)
			continue
		}
		out[t.key.Value] = v
	}
	return out
}
