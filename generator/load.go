package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
//
// data may also be a Kubernetes manifest holding the config in a
// ConfigMap (see manifest.go): then problems point at the manifest's lines
// and Config.Source says which ConfigMap and key were read.
func Parse(path string, data []byte) (*Config, error) {
	if cfg := parseSplit(path, data); cfg != nil {
		return cfg, nil
	}
	p := newParser(path)
	p.objects = true
	if cfg := p.parse(data); cfg != nil {
		return cfg, nil
	}
	if p.manifest {
		return parseManifest(path, data)
	}
	return nil, p.err()
}

// parseConfig is Parse of a config that is not a manifest (the text a
// ConfigMap holds).
func parseConfig(path string, data []byte) (*Config, error) {
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
		if s, ok := p.checked(u, "connection.uri", uriProblem); ok {
			c.URI = s
		}
	}
	if x, ok := keys["exchange"]; ok {
		if s, ok := p.checked(x, "connection.exchange", exchangeProblem); ok {
			c.Exchange = s
		}
	}
}

// checked reads kv's value as a scalar and reports what problem finds
// wrong with it at kv's key; ok only when there is nothing to report.
func (p *parser) checked(kv entry, path string, problem func(string) string) (string, bool) {
	s, ok := p.scalar(kv.key, kv.val, path)
	if !ok {
		return "", false
	}
	if msg := problem(s); msg != "" {
		p.fail(kv.key, path, "%s", msg)
		return "", false
	}
	return s, true
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
