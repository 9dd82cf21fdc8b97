// Package policy holds the decisions of metricsender's stand-in operator:
// given a request (one Metrics.{app} message as numbers), the app's
// current state and the time, what would an operator apply? The same code
// runs on a real bus (the operator command) and on preview's virtual
// clock, so a scenario previewed with an operator converges, or
// oscillates, the way the live loop will.
//
// A Policy is deterministic: its decision depends only on the requests
// and states it was given, in order, and the times they carry. It keeps
// per-app memory where the algorithm needs one (the HPA's scale-down
// stabilization window). Policies are not safe for concurrent use.
package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Request is one message of an app as an operator reads it: its numeric
// metric values (base units) and when it was sent.
type Request struct {
	App string
	// Metrics are the numeric values by name; non-numeric ones are left out.
	Metrics map[string]float64
	// ID is the message's correlation id, echoed in what answers it.
	ID string
	At time.Time
}

// RequestOf turns an event into a Request, keeping its numeric values.
func RequestOf(ev generator.Event) Request {
	r := Request{App: ev.App, Metrics: make(map[string]float64, len(ev.Metrics)), At: ev.Time}
	for _, m := range ev.Metrics {
		if m.Value.HasNum {
			r.Metrics[m.Name] = m.Value.Num
		}
	}
	return r
}

// Decision is what a policy applies to one app: the desired replicas
// and/or allocation values, in base units. The zero value applies nothing.
type Decision struct {
	Replicas    float64
	HasReplicas bool
	Allocation  map[string]float64
}

// Empty reports whether d applies nothing.
func (d Decision) Empty() bool { return !d.HasReplicas && len(d.Allocation) == 0 }

// Observation is d as the generator's feedback: what the simulated app
// observes once the operator applied it.
func (d Decision) Observation(source string, at time.Time) generator.Observation {
	return generator.Observation{Source: source, At: at, Replicas: d.Replicas, HasReplicas: d.HasReplicas,
		Allocation: d.Allocation}
}

// Policy decides what to apply for one request, given the app's current
// replicas (as the operator knows them).
type Policy interface {
	Decide(req Request, replicas float64) Decision
}

// Follow applies what is requested: the metric named replicas as the
// replicas, every other numeric metric as that metric's allocation.
type Follow struct{}

// Decide implements Policy.
func (Follow) Decide(req Request, _ float64) Decision {
	var d Decision
	for name, v := range req.Metrics {
		if name == "replicas" {
			d.Replicas, d.HasReplicas = v, true
			continue
		}
		if d.Allocation == nil {
			d.Allocation = map[string]float64{}
		}
		d.Allocation[name] = v
	}
	return d
}

// HPAConfig is an HPA's settings, the one place they are read from a
// command line into (ParseSpec for preview, the operator command's flags):
// start from DefaultHPAConfig, set what is given, then call New.
type HPAConfig struct {
	Metric        string
	Target        float64
	Min, Max      float64
	Tolerance     float64       // 0.1 in Kubernetes
	Stabilization time.Duration // for scale-down; 5m in Kubernetes
}

// DefaultHPAConfig has Kubernetes' defaults (tolerance 0.1, stabilization
// 5m) and min 1, max 10; no metric, no target.
func DefaultHPAConfig() HPAConfig {
	return HPAConfig{Min: 1, Max: 10, Tolerance: 0.1, Stabilization: 5 * time.Minute}
}

// Validate reports every problem of the configuration.
func (c HPAConfig) Validate() error {
	var errs []error
	if c.Metric == "" {
		errs = append(errs, errors.New("hpa: metric: empty"))
	}
	if !(c.Target > 0) || math.IsInf(c.Target, 0) {
		errs = append(errs, fmt.Errorf("hpa: target: must be > 0, got %g", c.Target))
	}
	if c.Min < 1 || c.Max < c.Min || c.Min != math.Trunc(c.Min) || c.Max != math.Trunc(c.Max) {
		errs = append(errs, fmt.Errorf("hpa: min %g, max %g: want whole numbers with 1 <= min <= max", c.Min, c.Max))
	}
	if c.Tolerance < 0 || c.Tolerance >= 1 {
		errs = append(errs, fmt.Errorf("hpa: tolerance: must be in [0, 1), got %g", c.Tolerance))
	}
	if c.Stabilization < 0 {
		errs = append(errs, fmt.Errorf("hpa: stabilization: must be >= 0, got %s", c.Stabilization))
	}
	return errors.Join(errs...)
}

// New validates c and returns an HPA with it.
func (c HPAConfig) New() (*HPA, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &HPA{HPAConfig: c}, nil
}

// HPA is the Kubernetes HorizontalPodAutoscaler's algorithm on one metric,
// as Kubernetes documents it: desired = ceil(current replicas × value /
// Target), no change while value / Target is within Tolerance of 1,
// clamped to [Min, Max], and a scale-down only to the highest desired
// count of the last Stabilization (a scale-up at once). Build it with
// HPAConfig.New, or NewHPA and the fields, then Validate.
type HPA struct {
	HPAConfig

	history map[string][]recommendation // per app, oldest first
}

type recommendation struct {
	at       time.Time
	replicas float64
}

// NewHPA returns an HPA with DefaultHPAConfig's settings for metric and
// target, not validated.
func NewHPA(metric string, target float64) *HPA {
	c := DefaultHPAConfig()
	c.Metric, c.Target = metric, target
	return &HPA{HPAConfig: c}
}

// Desired is the HPA's raw recommendation for current replicas and the
// metric's value: the formula and the tolerance, before clamping and
// stabilization.
func (h *HPA) Desired(current, value float64) float64 {
	ratio := value / h.Target
	if math.Abs(ratio-1) <= h.Tolerance {
		return current
	}
	return math.Ceil(current * ratio)
}

// Decide implements Policy. A request without the metric applies nothing.
func (h *HPA) Decide(req Request, replicas float64) Decision {
	value, ok := req.Metrics[h.Metric]
	if !ok || math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
		return Decision{}
	}
	current := min(max(replicas, h.Min), h.Max)
	want := min(max(h.Desired(current, value), h.Min), h.Max)
	want = h.stabilize(req.App, req.At, want)
	return Decision{Replicas: want, HasReplicas: true}
}

// stabilize records want and returns the highest recommendation of the
// window when that is below want's scale-up: scale-downs wait for every
// recommendation of the window to agree.
func (h *HPA) stabilize(app string, at time.Time, want float64) float64 {
	if h.history == nil {
		h.history = map[string][]recommendation{}
	}
	hist := append(h.history[app], recommendation{at: at, replicas: want})
	cut := 0
	for cut < len(hist) && at.Sub(hist[cut].at) > h.Stabilization {
		cut++
	}
	hist = slices.Delete(hist, 0, cut)
	h.history[app] = hist
	best := want
	for _, r := range hist {
		best = max(best, r.replicas)
	}
	return best
}

// Spec is a policy given on the command line: "follow" or
// "hpa:metric=cpu,target=0.5", with delay= (the actuation time) for both.
type Spec struct {
	Policy Policy
	Delay  time.Duration
}

// ParseSpec parses a policy spec (`preview --operator`): a name, then
// comma-separated key=value settings after a colon.
//   - follow: delay
//   - hpa: metric (required), target (required, a number or quantity),
//     min, max, tolerance, stabilization, delay
func ParseSpec(text string) (Spec, error) {
	name, settings, _ := strings.Cut(text, ":")
	kv := map[string]string{}
	if settings != "" {
		for _, part := range strings.Split(settings, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" || v == "" {
				return Spec{}, fmt.Errorf("%q: want key=value, got %q", text, part)
			}
			if _, dup := kv[k]; dup {
				return Spec{}, fmt.Errorf("%q: %s given twice", text, k)
			}
			kv[k] = v
		}
	}
	var spec Spec
	var errs []error
	take := func(k string) (string, bool) {
		v, ok := kv[k]
		delete(kv, k)
		return v, ok
	}
	if v, ok := take("delay"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("delay: want a duration >= 0, got %q", v))
		}
		spec.Delay = d
	}
	switch name {
	case "follow":
		spec.Policy = Follow{}
	case "hpa":
		h := DefaultHPAConfig()
		h.Metric, _ = take("metric")
		num := func(k string, into *float64) {
			if v, ok := take(k); ok {
				f, err := generator.ParseNumber(v)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", k, err))
				}
				*into = f
			}
		}
		num("target", &h.Target)
		num("min", &h.Min)
		num("max", &h.Max)
		num("tolerance", &h.Tolerance)
		if v, ok := take("stabilization"); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("stabilization: want a duration, got %q", v))
			}
			h.Stabilization = d
		}
		hpa, err := h.New()
		if err != nil {
			errs = append(errs, err)
		}
		spec.Policy = hpa
	default:
		return Spec{}, fmt.Errorf("%q: unknown policy %q (want follow or hpa)", text, name)
	}
	for k := range kv {
		errs = append(errs, fmt.Errorf("unknown setting %q", k))
	}
	if err := errors.Join(errs...); err != nil {
		return Spec{}, fmt.Errorf("%q: %w", text, err)
	}
	return spec, nil
}

// FormatReplicas is the text of a replica count: an integer as one.
func FormatReplicas(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
