// Package generator holds metricsender's config model, the value models
// that make each metric move over time, and the scheduler that turns them
// into abstract events on a fixed time grid. It knows nothing of brokers,
// watermill or is-wire.
//
// # Config file
//
// Load and Parse read the ConfigMap file; the Python sender's file loads
// unchanged:
//
//	connection:                  # optional; flags and env override it
//	  uri: amqp://rabbitmq-host  # amqp, amqps or nats; a password belongs in a Secret
//	  # uris: [amqp://rabbit-0, amqp://rabbit-1]  # or a cluster's nodes (not with uri):
//	  #   the same scheme, user, password and vhost; only host and port differ
//	  exchange: is               # optional; empty means the caller's default
//	interval: 60s                # optional Go duration > 0, default 60s
//	seed: 42                     # optional int64; --seed overrides
//	spread: true                 # optional; spread deployments over their interval
//	deployments:
//	  - name: web                # one routing-key word: Metrics.web
//	    count: 50                # optional, 1..100000: web-0 .. web-49
//	    interval: 10s            # optional, this deployment's own interval
//	    metrics:
//	      cpu: [50m, 100m, 150m] # a model per metric, see below
//
// A Shard (ShardOf, ScheduleOptions.Shard) splits the deployments between
// processes by rendezvous hashing on their names.
//
// Loading is strict, and every problem is reported, not just the first, as
// a *FieldError reading "file:line:col: field: problem", for example
// "examples/bad.yaml:14:7: deployments[1].metrics.cpu: empty list".
// Unknown keys (keys are case-sensitive), empty lists, missing values and
// YAML syntax errors are errors. So are duplicate deployment names (checked
// after count expansion) and names that are not one routing-key word (no
// '.', '*', '#', '>' or whitespace, Metrics.{name} at most 255 bytes).
// Metric names must be printable, at most 128 bytes, and must not start
// with "iswire.". Intervals that are not positive Go durations and URIs
// that do not parse or use another scheme are errors too. Anchors and
// aliases work; merge keys (<<) do not. A quoted URI has its password
// masked ("amqp://user:***@host").
//
// A file with a plain block list under a top-level `deployments:` key (no
// anchors or aliases) is parsed a batch of items at a time, so loading
// 100k deployments never holds the YAML tree of the whole file; any other
// file is parsed whole. Both read a file the same way (split.go).
//
// # Value models
//
// Each metric is one of the following. Times count from the start of the run
// (the first tick is at 0). Numbers may be plain ("0.5", "256", "1e3") or
// Kubernetes quantities ("200m", "1Gi"), parsed with
// k8s.io/apimachinery's resource.Quantity.
//
//	cpu: [0.5, 0.8, 1.0]
//	    uniform choice from the list (the original behaviour)
//	tier: {choice: [gold, silver], weights: [9, 1]}
//	    weighted choice; weights >= 0, not all 0
//	gpu: 1
//	    constant; also written {value: 1}
//	rps: {uniform: {min: 10, max: 100, step: 5}}
//	    uniform in [min, max]; with a step, on the grid min + k*step
//	load: {walk: {start: 500m, min: 100m, max: 2, step: 100m}}
//	    starts at start, then moves up or down by step each tick,
//	    turning back at the bounds
//	qps: {sine: {min: 10, max: 110, period: 10m, phase: 1m}}
//	    min + (max-min)(1-cos(2π(t+phase)/period))/2: at min when t+phase
//	    is a multiple of period, at max half a period later
//	replicas: {ramp: {from: 1, to: 10, over: 5m}}
//	    linear from `from` to `to` over `over`, then holds `to`
//	burst: {spike: {base: 100m, peak: 2, every: 5m, for: 30s}}
//	    peak during [k*every, k*every+for), base otherwise
//	trace: {replay: {file: traces/web.csv, column: cpu}}
//	    one recorded value per tick, looping; a CSV file with a header
//	    row, its path relative to the config file
//
// Each is validated: min <= max, step > 0, walk's start within [min, max],
// period, every, for and over > 0, for <= every, as many weights as choices,
// a readable replay file with the column and at least one row. ParseModel
// reads one model in this form, as YAML or JSON, for the control API; a
// MetricSpec's Spec holds a model's definition in the same form.
//
// # How values are written
//
// Values from a list, a choice, a constant or a replay are sent exactly as
// written ("1.0" stays "1.0", "200m" stays "200m", "gold" stays "gold").
// Generated values (uniform, walk, sine, ramp, spike) are printed:
//
//   - as canonical Kubernetes quantities when any of the model's numbers was
//     written as one ("750m", "2", "1536Mi"), to the thousandth;
//   - otherwise as plain decimals: with a step (uniform, walk), always with
//     the decimals of the step, or of min (uniform) or start (walk) if it
//     has more, so every grid value looks alike ("0.25", "0.50", "0.75");
//     without a step, rounded to 3 decimals with trailing zeros trimmed
//     ("0.333", "0.5", "2").
//
// Value.Num is the value in base units ("200m" is 0.2, "1Ki" is 1024) with
// HasNum true; a value that is not a number ("gold") has HasNum false.
//
// # State and randomness
//
// A Model draws randomness only from the *rand.Rand it is given (the
// metric's own stream, see Stream), so a seed replays a run. Walk and
// Replay keep state: every deployment made by count gets its own model
// instances, and Cloner / Config.Clone give fresh ones. Every built-in model
// is Bounded, so a receiver can check that a value is one the model could
// have sent.
package generator
