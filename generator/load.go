package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the config file at path (see Parse). A missing or
// unreadable file is an error naming the path (wrapping the fs error, so
// errors.Is(err, fs.ErrNotExist) works). Safe for concurrent use.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a config file's content; path names the file
// in errors and anchors relative replay files (its directory).
//
// It reports every problem it finds, joined with errors.Join, each a
// *FieldError with the line and column of the offending key or value (see
// FieldErrors). On error the returned Config is nil. The models of each
// deployment (one set per copy when `count` expands it) are fresh and owned
// by the returned Config. Safe for concurrent use.
func Parse(path string, data []byte) (*Config, error) {
	if cfg := parseSplit(path, data); cfg != nil {
		return cfg, nil
	}
	return parseWhole(path, data)
}

// parseSplit is the item-by-item parse (split.go): nil when the file does
// not have its shape or it gave up, and then only parseWhole may answer.
func parseSplit(path string, data []byte) *Config {
	f, ok := splitDeployments(data)
	if !ok {
		return nil
	}
	p := newParser(path)
	p.split = &f
	if cfg := p.parse(f.rest); cfg != nil && !p.bail {
		return cfg
	}
	return nil
}

// parseWhole parses data as one YAML document.
func parseWhole(path string, data []byte) (*Config, error) {
	p := newParser(path)
	if cfg := p.parse(data); cfg != nil {
		return cfg, nil
	}
	return nil, p.err()
}

func newParser(path string) *parser {
	return &parser{file: path, baseDir: filepath.Dir(path), replays: map[string]*Replay{}}
}

// parse parses a config document; nil when it recorded a problem.
func (p *parser) parse(data []byte) *Config {
	root := p.document(data)
	if root == nil {
		return nil
	}
	cfg := &Config{Path: p.file, Interval: DefaultInterval}
	p.config(root, cfg)
	if len(p.errs) > 0 {
		return nil
	}
	return cfg
}

func (p *parser) config(root *yaml.Node, cfg *Config) {
	_, keys, ok := p.mapping(root, root, "", "connection", "interval", "seed", "spread", "faults", "tolerance", "kubernetes", "deployments")
	if !ok {
		return
	}
	if e, ok := keys["connection"]; ok {
		p.connection(e, &cfg.Connection)
	}
	if e, ok := keys["interval"]; ok {
		if d, ok := p.interval(e, "interval"); ok {
			cfg.Interval = d
		}
	}
	if e, ok := keys["seed"]; ok {
		if s, ok := p.scalar(e.key, e.val, "seed"); ok {
			if seed, err := strconv.ParseInt(s, 10, 64); err != nil {
				p.fail(e.key, "seed", "want an integer (int64), got %q", s)
			} else {
				cfg.Seed = &seed
			}
		}
	}
	if e, ok := keys["spread"]; ok {
		if s, ok := p.scalar(e.key, e.val, "spread"); ok {
			switch s {
			case "true", "false":
				cfg.Spread = s == "true"
			default:
				p.fail(e.key, "spread", "want true or false, got %q", s)
			}
		}
	}
	if e, ok := keys["tolerance"]; ok {
		cfg.Tolerance = p.tolerance(e, "tolerance")
	}
	var faultRefs []faultMetricRef
	if e, ok := keys["faults"]; ok {
		cfg.Faults, faultRefs, _ = p.faults(e, "faults")
	}
	if e, ok := keys["kubernetes"]; ok {
		cfg.Kubernetes = p.kubernetes(e, "kubernetes", true)
		p.kube = cfg.Kubernetes
	}
	e, ok := keys["deployments"]
	if !ok {
		p.fail(root, "deployments", "missing: the file must list deployments")
		return
	}
	cfg.Deployments = p.deployments(e)
	if len(faultRefs) > 0 && len(p.errs) == 0 {
		names := map[string]bool{}
		for _, d := range cfg.Deployments {
			for _, m := range d.Metrics {
				names[m.Name] = true
			}
		}
		p.checkFaultMetrics(faultRefs, func(n string) bool { return names[n] }, "any deployment")
	}
}

func (p *parser) connection(e entry, c *Connection) {
	_, keys, ok := p.mapping(e.key, e.val, "connection", "uri", "uris", "exchange")
	if !ok {
		return
	}
	if u, ok := keys["uris"]; ok {
		if first, both := keys["uri"]; both {
			p.fail(u.key, "connection.uris", "give uri or uris, not both (uri is at line %d)", first.key.Line)
		} else {
			c.URIs = p.uris(u)
		}
	}
	if u, ok := keys["uri"]; ok {
		if s, ok := p.scalar(u.key, u.val, "connection.uri"); ok {
			if msg := uriProblem(s); msg != "" {
				p.fail(u.key, "connection.uri", "%s", msg)
			} else {
				c.URI = s
			}
		}
	}
	if x, ok := keys["exchange"]; ok {
		if s, ok := p.scalar(x.key, x.val, "connection.exchange"); ok {
			if msg := exchangeProblem(s); msg != "" {
				p.fail(x.key, "connection.exchange", "%s", msg)
			} else {
				c.Exchange = s
			}
		}
	}
}

// interval parses a tick interval: a Go duration > 0.
func (p *parser) interval(e entry, field string) (time.Duration, bool) {
	d, ok := p.duration(e, field)
	if ok && d <= 0 {
		p.fail(e.key, field, "must be > 0, got %v", d)
		return 0, false
	}
	return d, ok
}

// duration parses a Go duration ("30s", "1m30s").
func (p *parser) duration(e entry, field string) (time.Duration, bool) {
	s, ok := p.scalar(e.key, e.val, field)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.fail(e.key, field, "not a duration (like 30s, 5m, 1h30m): %q", s)
		return 0, false
	}
	return d, true
}

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
	// setKey names the whole list while every model in it is stateless;
	// "" once one is not (see parser.metricSets).
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
		if shareable = shareable && cacheable && CloneModel(model) == model; shareable {
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
		// Alike lists of stateless models are one list: read-only, like
		// the models they hold, and cloned by whoever runs them.
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

// tolerance parses a `tolerance:` (see ParseTolerance).
func (p *parser) tolerance(e entry, field string) *Tolerance {
	s, ok := p.scalar(e.key, e.val, field)
	if !ok {
		return nil
	}
	t, err := ParseTolerance(s)
	if err != nil {
		p.fail(e.key, field, "%v", err)
		return nil
	}
	return &t
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
