package generator

import "time"

// DefaultInterval is the tick interval when neither the config nor a flag sets one.
const DefaultInterval = 60 * time.Second

// DefaultExchange is the is-wire exchange name.
const DefaultExchange = "is"

// Config is a loaded, validated configuration file (the ConfigMap file).
// The zero value is not useful: obtain one from Load or Parse.
type Config struct {
	// Path is the file the config was loaded from, as given to Load.
	Path string
	// Source is where in Path the config was read, when Path is a
	// Kubernetes manifest: "ConfigMap metricsender-config, key
	// metricsender.yaml"; empty for a config file.
	Source string
	// Connection holds the optional broker settings of the file.
	Connection Connection
	// Interval is the default tick interval (DefaultInterval when the file has none).
	Interval time.Duration
	// Seed, when non-nil, seeds every random stream of the run.
	Seed *int64
	// Spread spreads deployments' phases evenly over their interval.
	Spread bool
	// Tolerance of reaction tracking for every deployment without one of
	// its own; nil is exact.
	Tolerance *Tolerance
	// Faults are injected into every deployment's messages, unless the
	// deployment has a section of its own; nil for none. Read-only.
	Faults *Faults
	// Kubernetes is the top-level `kubernetes:` section (no Name), already
	// merged into each Deployment's; nil for none. Read-only.
	Kubernetes *Kubernetes
	// Deployments in file order; names are unique (after `count` expansion).
	Deployments []Deployment
}

// Connection is the `connection` section of the file. Empty fields mean
// "not set". URI and URIs are never both set.
type Connection struct {
	URI string
	// URIs are the nodes of one cluster (`uris:`): the same scheme, user,
	// password and virtual host, different hosts or ports.
	URIs     []string
	Exchange string
}

// Deployment is one simulated application.
type Deployment struct {
	Name string
	// Interval is the deployment's own interval; 0 means the config's default.
	Interval time.Duration
	// Metrics sorted by name.
	Metrics []MetricSpec
	// Targets say what each metric's requests are compared with
	// (reaction tracking): "replicas", "allocation.<metric>" or "none";
	// a metric not named follows the default rule. Read-only.
	Targets map[string]string
	// Tolerance, when non-nil, replaces the config's for this deployment.
	Tolerance *Tolerance
	// Faults, when non-nil, replace the config's for this deployment
	// (an empty section turns them off). Read-only.
	Faults *Faults
	// State is the deployment's initial observed state (its `state:`), the
	// Ready default already applied; nil means the defaults (Replicas 1,
	// Ready 1, no allocation). Read-only: the copies `count` makes share it.
	// Only a deployment new to a Schedule starts from it (see Observe).
	State *State
	// Kubernetes is how the kubernetes feedback source finds this
	// deployment's workload: its own `kubernetes:` section merged over the
	// config's, field by field (resources key by key); nil when neither
	// has one (then: the Deployment with its name, the first container,
	// the limit else the request, the default resources). Read-only.
	Kubernetes *Kubernetes
}

// MetricSpec names a metric and the model that produces its values.
type MetricSpec struct {
	Name string
	// Model is a definition: run a clone of it (CloneModel), as the
	// Schedule does. In a loaded Config, deployments whose metric is
	// written alike share one model, and alike metrics lists one slice.
	Model Model
	// Spec is the model's definition in the config's form, JSON-marshalable
	// and accepted back by ParseModel: a string for a constant ("1"), a
	// []string for a list, else a map with one key naming the model, such
	// as {"sine": {"min": "10", "max": "110", "period": "10m"}} or
	// {"choice": [...], "weights": [...]}. Numbers and durations keep the
	// text they were written with. Read-only: copies share it.
	Spec any
}

// Clone returns a copy of c whose models are fresh (see Cloner), so two
// runs of one loaded config (a preview, then a send) do not share state.
func (c *Config) Clone() *Config {
	out := *c
	if c.Seed != nil {
		seed := *c.Seed
		out.Seed = &seed
	}
	out.Deployments = make([]Deployment, len(c.Deployments))
	for i, d := range c.Deployments {
		d.Metrics = cloneSpecs(d.Metrics)
		out.Deployments[i] = d
	}
	return &out
}
