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
//	    state: {replicas: 2}     # optional initial observed state, see below
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
// The file may also be a Kubernetes manifest, one document or a stream:
// the config is then the text of a ConfigMap key (see manifest.go for which
// one, and Config.Source), its problems at the manifest's lines. A literal
// block (`|`, `|-`, `|+`, an indentation indicator, CRLF line ends) maps
// exactly; any other scalar (quoted, folded) puts its problems at the
// scalar's start and adds their line and column in the text to the message.
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
//	cpu: {expr: "load / replicas", vars: {load: {sine: ...}}, min: 50m, max: 4}
//	    a CEL expression over vars and the observed state; see
//	    "Observed state and expressions" below
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
// # Observed state and expressions
//
// Every deployment has an observed state: what the operator under test did
// with it. State holds Replicas (desired), Ready (ready replicas) and
// Allocation (what is applied per metric, such as the CPU request), all
// doubles in base units ("500m" is 0.5). It starts from the deployment's
// `state:` in the config,
//
//	state: {replicas: 2, ready: 1, allocation: {cpu: 500m, memory: 1Gi}}
//
// where every key is optional: replicas defaults to 1, ready to replicas,
// and values are numbers or quantities >= 0. Only feedback changes it,
// never the simulation: Schedule.Observe records an Observation from a
// source ("api", "bus", "kubernetes") field by field, the latest wins, a
// replicas without ready sets ready too, and the change takes effect from
// the deployment's next tick. Observed and Snapshot tell who set each
// field. A reload keeps the observed state of the deployments that remain
// and ignores their `state:`; new ones (and removed ones coming back)
// start from the file.
//
// A `kubernetes:` section, per deployment or at the top level (beneath
// every deployment's own, field by field), tells the kubernetes feedback
// source which workload to read:
//
//	kubernetes:
//	  kind: StatefulSet          # or Deployment (the default)
//	  name: web-db               # default: the deployment's name; not at the top level
//	  namespace: shop            # read by the metrics API bridge only (default: every namespace)
//	  container: main            # default: the pod template's first container
//	  allocation: limits         # or requests; default: the limit when set, else the request
//	  resources: {gpu: amd.com/gpu}  # metric -> resource; cpu, memory and gpu (nvidia.com/gpu) by default
//
// The loader checks the names' syntax only; Deployment.Kubernetes holds
// the merged section.
//
// The expr model computes a metric from the state, in CEL, the expression
// language of Kubernetes itself:
//
//	cpu:
//	  expr: "load / replicas"
//	  vars:                                          # optional
//	    load: {sine: {min: 1, max: 6, period: 30m}}  # any model but expr, numeric
//	  min: 50m                                       # optional clamps
//	  max: 4
//	  format: quantity                               # optional: quantity or decimal
//	  decimals: 2                                    # optional, decimal output only
//
// The variables are each var (its model's number at this tick), replicas,
// ready, allocation (a map of doubles by metric name: allocation.cpu, or
// allocation["gpu-mem"] for a name that is no identifier), elapsed (seconds since the start of the
// run) and tick (the 0-based index of the tick on the deployment's grid).
// All are doubles, so write double literals: "2.0 / replicas" ("2 /
// replicas" does not type-check). A var draws from its own stream,
// Stream(seed, deployment, metric + "\x00" + var), so adding a var
// changes no other value. The result (double, int or uint) is clamped to
// [min, max] and sent as a canonical quantity with format: quantity or
// when any var's model is written with quantities, else as a decimal with
// `decimals` decimals (default 3, trailing zeros trimmed: "2", "0.5").
//
// At load time a syntax error, an unknown variable, a type error or a
// result that is not a number is an error at the offending character of
// the expression (exact for an expression on one line), and so is a var
// named like a state variable, a CEL built-in or a reserved word, and an
// expression CEL estimates at over 100,000 steps an evaluation (nested
// comprehensions over long lists; allocation counts as up to 1000 keys). One
// program is compiled per distinct expression and var set in a file and
// shared by every deployment that uses it. At run time an error (a
// division by zero, a missing allocation key, a result that is not finite
// or beyond 9e15) never panics nor skips a message: the metric sends its
// previous value (on its first tick, min when given, else 0 within max)
// and the error reaches ScheduleOptions.OnModelError. An expr is Bounded
// by [min, max] (any number without them). Models that read the state
// implement StateModel beside Model; the others are untouched.
//
// # Faults
//
// A `faults:` section, at the top level (every deployment) or in a
// deployment (which replaces the top level's; `faults: {}` turns them
// off), makes an Injector misbehave on purpose. Each kind fires with a
// probability per message (p, in [0, 1]) or on a schedule (every, for:
// on during [k*every, k*every+for) of the run):
//
//	drop:      {p}                       not sent; its seq is used up
//	duplicate: {p, times: 1}             sent again (times extra copies), same seq and correlation id
//	delay:     {p, by: 30s}              held back and sent by later, after later ticks
//	stale:     {p, by: 10m}              timestamp and envelope time set by in the past
//	corrupt:   {p, metrics, values}      one metric's value replaced by one of values
//	                                     (default NaN, -1, "", abc, 1e308, Infinity)
//	omit:      {p, metrics}              one metric left out
//	silence:   {every: 1h, for: 5m}      nothing sent in the window; seqs used up
//	burst:     {p, times: 100}           sent times extra times at once
//
// metrics defaults to all (those named must exist). Each (deployment,
// kind) draws from a stream of its own, keyed by the seed, the deployment
// and NUL+"fault"+NUL+kind, and draws every message whether or not the
// kind fires or another suppresses it: faults reproduce for a seed, and
// adding or changing faults changes no value and no other kind's draws.
// Drop and silence exclude every other fault on that message; the last
// message of a bounded run is never dropped or silenced. Events tell what
// happened: Fault lists the kinds applied ("stale,corrupt"; "duplicate" or
// "burst" on a copy; "drop" or "silence" on a Suppressed event), Dropped
// the seqs suppressed just before, Delay how long to hold it, ID the
// correlation id an event shares with its copies.
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
