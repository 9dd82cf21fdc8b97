// Package policy holds the decisions of metricsender's stand-in operator:
// given a request (one Metrics.{app} message as numbers), the app's
// current state and the time, what would an operator apply? The same code
// runs on a real bus (the operator command) and on preview's virtual
// clock, so a scenario previewed with an operator converges, or
// oscillates, the way the live loop will.
//
// A Policy is deterministic: its decision depends only on the requests
// and states it was given, in order, and the times they carry. It keeps
// per-app memory where the algorithm needs one: the HPA keeps what
// kube-controller-manager keeps per HorizontalPodAutoscaler, its recent
// recommendations (for the stabilization windows) and scale events (for
// the behavior policies' periods). Policies are not safe for concurrent
// use.
//
// # The HPA
//
// HPA mirrors the real controller (pkg/controller/podautoscaler in
// Kubernetes; each function names the one it mirrors), one Decide being
// one sync at the request's time:
//   - the count: ceil(current × value / target) for a per-replica value
//     (source pods), ceil(value / target) for an app's total (source
//     external, an External metric's AverageValue target); none while the
//     ratio is within the tolerance (0.1) of 1;
//   - without behavior (the default, as an HPA without spec.behavior): the
//     highest recommendation of the stabilization window (5m), then at
//     least min and at most the lower of max and max(2 × current, 4);
//   - with behavior (any of the behavior, up, down, upSelect, downSelect,
//     upWindow, downWindow keys): the windows bound the recommendation
//     (lowest of upWindow, highest of downWindow), then the policies limit
//     the change per period from the replicas at the period's start
//     (selectPolicy max, min or disabled), then min and max. Unset rules
//     are the API's defaults: up 4pods/15s+100%/15s, select max, window 0;
//     down 100%/15s, select max, window the stabilization key's.
package policy

import (
	"errors"
	"fmt"
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

// Spec is a policy given on the command line: "follow" or
// "hpa:metric=cpu,target=0.5", with delay= (the actuation time) for both.
type Spec struct {
	Policy Policy
	Delay  time.Duration
}

// ParseSpec parses a policy spec (`preview --operator`): a name, then
// comma-separated key=value settings after a colon.
//   - follow: delay
//   - hpa: delay and HPAConfig.Set's keys: metric (required), source,
//     target (required, a number or quantity), min, max, tolerance,
//     stabilization, and spec.behavior's behavior, up, down, upSelect,
//     downSelect, upWindow, downWindow, e.g.
//     hpa:metric=cpu,target=0.5,up=4pods/15s+100%/15s,downWindow=300s
//
// The error names each key with a problem.
func ParseSpec(text string) (Spec, error) {
	name, settings, _ := strings.Cut(text, ":")
	kv := map[string]string{}
	var keys []string // in the order given
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
			keys = append(keys, k)
		}
	}
	var spec Spec
	var errs []error
	if v, ok := kv["delay"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("delay: want a duration >= 0, got %q", v))
		}
		spec.Delay = d
	}
	unknown := func(k string) error { return fmt.Errorf("%w %q", ErrUnknownKey, k) }
	switch name {
	case "follow":
		spec.Policy = Follow{}
		for _, k := range keys {
			if k != "delay" {
				errs = append(errs, unknown(k))
			}
		}
	case "hpa":
		h := DefaultHPAConfig()
		// behavior first: behavior=none after up= would drop it.
		slices.SortStableFunc(keys, func(a, b string) int { return boolInt(b == "behavior") - boolInt(a == "behavior") })
		for _, k := range keys {
			if k == "delay" {
				continue
			}
			if err := h.Set(k, kv[k]); errors.Is(err, ErrUnknownKey) {
				errs = append(errs, unknown(k))
			} else if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
		}
		hpa, err := h.New()
		if err != nil {
			errs = append(errs, err)
		}
		spec.Policy = hpa
	default:
		return Spec{}, fmt.Errorf("%q: unknown policy %q (want follow or hpa)", text, name)
	}
	if err := errors.Join(errs...); err != nil {
		return Spec{}, fmt.Errorf("%q: %w", text, err)
	}
	return spec, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FormatReplicas is the text of a replica count: an integer as one.
func FormatReplicas(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
