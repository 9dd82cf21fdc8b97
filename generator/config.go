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
	// Connection holds the optional broker settings of the file.
	Connection Connection
	// Interval is the default tick interval (DefaultInterval when the file has none).
	Interval time.Duration
	// Seed, when non-nil, seeds every random stream of the run.
	Seed *int64
	// Spread spreads deployments' phases evenly over their interval.
	Spread bool
	// Deployments in file order; names are unique (after `count` expansion).
	Deployments []Deployment
}

// Connection is the `connection` section of the file. Empty fields mean "not set".
type Connection struct {
	URI      string
	Exchange string
}

// Deployment is one simulated application.
type Deployment struct {
	Name string
	// Interval is the deployment's own interval; 0 means the config's default.
	Interval time.Duration
	// Metrics sorted by name.
	Metrics []MetricSpec
}

// MetricSpec names a metric and the model that produces its values.
type MetricSpec struct {
	Name  string
	Model Model
}
