package policy

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Source is how an HPA reads its metric's value, after the two kinds of
// autoscaling/v2 metric a metricsender value can stand for.
type Source string

const (
	// SourcePods (the default): the value is per replica, as a Pods or
	// Resource metric's average over ready pods; desired = ceil(current ×
	// value / Target).
	SourcePods Source = "pods"
	// SourceExternal: the value is the app's total, as an External metric
	// with an AverageValue target (what `metricsender metrics-api` serves);
	// desired = ceil(value / Target), the ratio value / (Target × current).
	SourceExternal Source = "external"
)

// HPAConfig is an HPA's settings, the one place they are read from a
// command line into (ParseSpec for preview, the operator command's flags):
// start from DefaultHPAConfig, set what is given (Set takes the spec keys),
// then call New.
type HPAConfig struct {
	Metric    string
	Source    Source // "" is SourcePods
	Target    float64
	Min, Max  float64
	Tolerance float64 // 0.1 in Kubernetes (--horizontal-pod-autoscaler-tolerance)
	// Stabilization is kube-controller-manager's
	// --horizontal-pod-autoscaler-downscale-stabilization (5m): the
	// scale-down window of an HPA without Behavior, and of a Behavior
	// whose ScaleDown.Window is nil (truncated to whole seconds there, as
	// the controller does).
	Stabilization time.Duration
	// Behavior is the HPA's spec.behavior. nil is an HPA without one, which
	// the real controller runs on its older rules, not on the documented
	// default policies: scale-up to at most max(2 × current, 4) per
	// decision, scale-down unlimited after the Stabilization window.
	Behavior *Behavior
	// Sync, when > 0, is the controller's sync period
	// (--horizontal-pod-autoscaler-sync-period) for a caller that decides
	// once per message while the controller syncs more often on the latest
	// value: before a request's recommendation counts, the previous one
	// is taken as made again one Sync earlier, as the controller made it
	// at every sync while that value stood. So a stabilization window
	// ends a Sync after the value changed, not a message interval earlier.
	// 0 (the default): each Decide is one sync, nothing more.
	Sync time.Duration
}

// DefaultHPAConfig has Kubernetes' defaults (tolerance 0.1, stabilization
// 5m, no behavior) and min 1, max 10; no metric, no target.
func DefaultHPAConfig() HPAConfig {
	return HPAConfig{Source: SourcePods, Min: 1, Max: 10, Tolerance: 0.1, Stabilization: 5 * time.Minute}
}

func (c *HPAConfig) setDefaults() {
	if c.Source == "" {
		c.Source = SourcePods
	}
}

// Validate reports every problem of the configuration, each naming its
// spec key.
func (c HPAConfig) Validate() error {
	c.setDefaults()
	var errs []error
	if c.Metric == "" {
		errs = append(errs, errors.New("hpa: metric: empty"))
	}
	if c.Source != SourcePods && c.Source != SourceExternal {
		errs = append(errs, fmt.Errorf("hpa: source: want pods or external, got %q", c.Source))
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
	if c.Sync < 0 {
		errs = append(errs, fmt.Errorf("hpa: sync: must be >= 0, got %s", c.Sync))
	}
	if c.Stabilization < 0 {
		errs = append(errs, fmt.Errorf("hpa: stabilization: must be >= 0, got %s", c.Stabilization))
	}
	if c.Behavior != nil {
		errs = append(errs, c.Behavior.validate()...)
	}
	return errors.Join(errs...)
}

// New validates c and returns an HPA with it.
func (c HPAConfig) New() (*HPA, error) {
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &HPA{HPAConfig: c}, nil
}

// HPA is the Kubernetes HorizontalPodAutoscaler's algorithm on one metric,
// as kube-controller-manager's podautoscaler computes it (each piece says
// which of its functions it mirrors): the replica count the metric asks
// for, no change while the ratio is within Tolerance of 1, then
// stabilization and rate limits (Behavior, or the controller's rules for
// an HPA without one), clamped to [Min, Max].
//
// Each Decide is one sync of the controller at the request's time; its
// memory per app (the recommendations of the windows, the scale events of
// the policies' periods) is the controller's per-HPA memory. A decision
// that differs from the replicas it was given counts as a scale event.
// Build it with HPAConfig.New, or NewHPA and the fields, then Validate.
type HPA struct {
	HPAConfig

	apps map[string]*hpaState
}

// hpaState is the controller's memory of one HPA.
type hpaState struct {
	seen     bool             // recordInitialRecommendation ran
	recs     []recommendation // HorizontalController.recommendations
	up, down []scaleEvent     // scaleUpEvents, scaleDownEvents
}

// recommendation mirrors timestampedRecommendation.
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
// metric's value: the formula and the tolerance, before stabilization,
// limits and clamping.
func (h *HPA) Desired(current, value float64) float64 {
	if h.Source == SourceExternal {
		// replica_calculator.go GetExternalPerPodMetricReplicas: values in
		// milli-units, the ratio per existing replica, the count from the
		// total alone.
		usage, target := milli(value), milli(h.Target)
		if h.within(usage / (target * current)) {
			return current
		}
		return math.Ceil(usage / target)
	}
	// calcPlainMetricReplicas with every replica ready and reporting: the
	// value is their average, so the ratio times the ready count.
	ratio := value / h.Target
	if h.within(ratio) {
		return current
	}
	return math.Ceil(ratio * current)
}

// within mirrors Tolerances.isWithin (both bounds inclusive, one
// tolerance for both directions).
func (h *HPA) within(ratio float64) bool {
	return 1-h.Tolerance <= ratio && ratio <= 1+h.Tolerance
}

// milli is v as resource.Quantity.MilliValue gives it (rounded up to a
// thousandth), after forgiving the float noise of a decimal value.
func milli(v float64) float64 {
	m := v * 1000
	if r := math.Round(m); math.Abs(m-r) <= 1e-9*math.Max(1, math.Abs(m)) {
		return r
	}
	return math.Ceil(m)
}

// Decide implements Policy: one sync of reconcileAutoscaler for req.App,
// replicas being the scale's spec.replicas. A request without a usable
// metric applies nothing (the controller's failed metric: no rescale),
// unless replicas are outside [Min, Max], which the controller fixes
// without a metric. At 0 replicas scaling is disabled: it keeps 0.
func (h *HPA) Decide(req Request, replicas float64) Decision {
	return h.decide(req, replicas, true)
}

// Recommend is Decide for a caller that follows a real controller rather
// than standing in for one (the judge of a real HPA): the same sync, its
// recommendation remembered for the stabilization windows, but no scale
// event stored. The caller reports the changes the controller made with
// Scaled, so that a decision not yet applied does not use up the
// behavior policies' room twice.
func (h *HPA) Recommend(req Request, replicas float64) Decision {
	return h.decide(req, replicas, false)
}

// Scaled records that app's replicas changed from prev to next at at: a
// scale event of the behavior policies' periods, as the controller stores
// one when it rescales. An HPA without behavior keeps none.
func (h *HPA) Scaled(app string, at time.Time, prev, next float64) {
	if prev != next {
		h.storeScaleEvent(h.state(app), at, prev, next)
	}
}

// decide is one sync; store says whether a change is a scale event.
func (h *HPA) decide(req Request, replicas float64, store bool) Decision {
	st := h.state(req.App)
	now := req.At
	current := replicas
	if !st.seen { // recordInitialRecommendation
		st.seen = true
		st.recs = append(st.recs, recommendation{at: now, replicas: current})
	}
	var desired float64
	switch {
	case current == 0:
		return Decision{Replicas: 0, HasReplicas: true}
	case current > h.Max:
		desired = h.Max
	case current < h.Min:
		desired = h.Min
	default:
		value, ok := req.Metrics[h.Metric]
		if !ok || math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
			return Decision{}
		}
		proposal := h.Desired(current, value)
		h.repeatLast(st, now)
		if h.Behavior == nil {
			desired = h.normalize(st, now, current, proposal)
		} else {
			desired = h.normalizeWithBehavior(st, now, current, proposal)
		}
	}
	if store && desired != current {
		h.storeScaleEvent(st, now, current, desired)
	}
	return Decision{Replicas: desired, HasReplicas: true}
}

func (h *HPA) state(app string) *hpaState {
	if h.apps == nil {
		h.apps = map[string]*hpaState{}
	}
	st := h.apps[app]
	if st == nil {
		st = &hpaState{}
		h.apps[app] = st
	}
	return st
}

// normalize mirrors normalizeDesiredReplicas, the controller's path for an
// HPA without behavior: stabilizeRecommendation (the highest
// recommendation of the Stabilization window, this one included), then
// convertDesiredReplicasWithRules (at least Min, at most the lower of Max
// and calculateScaleUpLimit's max(2 × current, 4)).
func (h *HPA) normalize(st *hpaState, now time.Time, current, proposal float64) float64 {
	stabilized := proposal
	cutoff := now.Add(-h.Stabilization)
	old := -1
	for i, r := range st.recs {
		if r.at.Before(cutoff) {
			old = i
		} else {
			stabilized = max(stabilized, r.replicas)
		}
	}
	st.record(old, recommendation{at: now, replicas: proposal})

	upLimit := math.Trunc(max(2*current, 4)) // int32(math.Max(scaleUpLimitFactor*current, scaleUpLimitMinimum))
	switch {
	case stabilized < h.Min:
		return h.Min
	case stabilized > min(h.Max, upLimit):
		return min(h.Max, upLimit)
	}
	return stabilized
}

// record stores r in place of the outdated recommendation at old, or
// appends it when there is none (old < 0), as the controller reuses slots.
func (st *hpaState) record(old int, r recommendation) {
	if old >= 0 {
		st.recs[old] = r
		return
	}
	st.recs = append(st.recs, r)
}

// repeatLast moves the latest recommendation to one Sync before now when
// it is older (HPAConfig.Sync). Moving it, rather than adding a copy,
// keeps the memory bounded and changes no window of Sync or longer: each
// one that held it at its old time holds it at the new one.
func (h *HPA) repeatLast(st *hpaState, now time.Time) {
	if h.Sync <= 0 || len(st.recs) == 0 {
		return
	}
	last := 0
	for i, r := range st.recs {
		if r.at.After(st.recs[last].at) {
			last = i
		}
	}
	if at := now.Add(-h.Sync); at.After(st.recs[last].at) {
		st.recs[last].at = at
	}
}
