package policy

import (
	"fmt"
	"math"
	"time"
)

// Behavior is an HPA's autoscaling/v2 spec.behavior: rules for each
// direction. DefaultBehavior is what the API server fills in for
// `behavior: {}`; a rule left out of a spec keeps its default.
type Behavior struct {
	ScaleUp, ScaleDown Rules
}

// Rules is an HPAScalingRules.
type Rules struct {
	// Policies limit the change per period; Select picks among them.
	Policies []ScalingPolicy
	Select   Select // "" is SelectMax
	// Window is stabilizationWindowSeconds. nil is the default: 0 for
	// ScaleUp, the controller's Stabilization for ScaleDown (as
	// maybeInitScaleDownStabilizationWindow sets it).
	Window *time.Duration
}

// ScalingPolicy is an HPAScalingPolicy: at most Value pods, or Value
// percent of the replicas at the period's start, per Period.
type ScalingPolicy struct {
	Percent bool // Type Percent; false is Type Pods
	Value   int
	Period  time.Duration // whole seconds, 1s to 30m
}

// Select is a selectPolicy.
type Select string

const (
	SelectMax      Select = "Max" // the policy allowing the biggest change (the default)
	SelectMin      Select = "Min" // the one allowing the smallest change
	SelectDisabled Select = "Disabled"
)

// The API server's defaults (pkg/apis/autoscaling/v2/defaults.go).
const (
	defaultPeriod   = 15 * time.Second
	maxPeriod       = 30 * time.Minute // periodSeconds <= 1800
	maxWindow       = time.Hour        // stabilizationWindowSeconds <= 3600
	defaultUpPods   = 4
	defaultUpPct    = 100
	defaultDownPct  = 100
	defaultUpWindow = 0
)

// DefaultBehavior is the behavior of an HPA with `behavior: {}`: scale-up
// by the more of 4 pods and 100% per 15 s, no window; scale-down by 100%
// per 15 s after the controller's Stabilization window.
func DefaultBehavior() *Behavior {
	w := time.Duration(defaultUpWindow)
	return &Behavior{
		ScaleUp: Rules{Select: SelectMax, Window: &w, Policies: []ScalingPolicy{
			{Value: defaultUpPods, Period: defaultPeriod},
			{Percent: true, Value: defaultUpPct, Period: defaultPeriod},
		}},
		ScaleDown: Rules{Select: SelectMax, Policies: []ScalingPolicy{{Percent: true, Value: defaultDownPct, Period: defaultPeriod}}},
	}
}

func (b *Behavior) validate() []error {
	var errs []error
	for _, d := range []struct {
		key string
		r   Rules
	}{{"up", b.ScaleUp}, {"down", b.ScaleDown}} {
		switch d.r.Select {
		case "", SelectMax, SelectMin, SelectDisabled: // "" is Max, as the API defaults it
		default:
			errs = append(errs, fmt.Errorf("hpa: %sSelect: want max, min or disabled, got %q", d.key, d.r.Select))
		}
		if len(d.r.Policies) == 0 {
			errs = append(errs, fmt.Errorf("hpa: %s: at least one policy", d.key))
		}
		for _, p := range d.r.Policies {
			if p.Value < 1 {
				errs = append(errs, fmt.Errorf("hpa: %s: %s: value must be >= 1", d.key, p))
			}
			if p.Period < time.Second || p.Period > maxPeriod || p.Period%time.Second != 0 {
				errs = append(errs, fmt.Errorf("hpa: %s: %s: period must be whole seconds in [1s, 30m]", d.key, p))
			}
		}
		if w := d.r.Window; w != nil && (*w < 0 || *w > maxWindow || *w%time.Second != 0) {
			errs = append(errs, fmt.Errorf("hpa: %sWindow: must be whole seconds in [0s, 1h], got %s", d.key, *w))
		}
	}
	return errs
}

// String is p as a spec writes it: 4pods/15s, 100%/15s.
func (p ScalingPolicy) String() string {
	unit := "pods"
	if p.Percent {
		unit = "%"
	}
	return fmt.Sprintf("%d%s/%s", p.Value, unit, p.Period)
}

// scaleEvent mirrors timestampedScaleEvent: change is the number of
// replicas added (in scaleUpEvents) or removed (in scaleDownEvents).
type scaleEvent struct {
	at       time.Time
	change   float64
	outdated bool
}

// upWindow is the scale-up window in force (nil is the API's 0).
func (h *HPA) upWindow() time.Duration {
	if w := h.Behavior.ScaleUp.Window; w != nil {
		return *w
	}
	return defaultUpWindow
}

// downWindow is the scale-down window in force: the rule's, or the
// controller's Stabilization in whole seconds.
func (h *HPA) downWindow() time.Duration {
	if w := h.Behavior.ScaleDown.Window; w != nil {
		return *w
	}
	return h.Stabilization.Truncate(time.Second)
}

// normalizeWithBehavior mirrors normalizeDesiredReplicasWithBehaviors:
// stabilizeRecommendationWithBehaviors, then
// convertDesiredReplicasWithBehaviorRate.
func (h *HPA) normalizeWithBehavior(st *hpaState, now time.Time, current, proposal float64) float64 {
	// stabilizeRecommendationWithBehaviors: the lowest recommendation of
	// the up window and the highest of the down window bound the change.
	upRec, downRec := proposal, proposal
	upCutoff := now.Add(-h.upWindow())
	downCutoff := now.Add(-h.downWindow())
	old := -1
	for i, r := range st.recs {
		if r.at.After(upCutoff) {
			upRec = min(upRec, r.replicas)
		}
		if r.at.After(downCutoff) {
			downRec = max(downRec, r.replicas)
		}
		if r.at.Before(upCutoff) && r.at.Before(downCutoff) {
			old = i
		}
	}
	stabilized := current
	if stabilized < upRec {
		stabilized = upRec
	}
	if stabilized > downRec {
		stabilized = downRec
	}
	st.record(old, recommendation{at: now, replicas: proposal})

	// convertDesiredReplicasWithBehaviorRate
	switch {
	case stabilized > current:
		limit := max(scaleUpLimit(now, current, st.up, st.down, h.Behavior.ScaleUp), current)
		if allowed := min(h.Max, limit); stabilized > allowed {
			return allowed
		}
	case stabilized < current:
		limit := min(scaleDownLimit(now, current, st.up, st.down, h.Behavior.ScaleDown), current)
		if allowed := max(h.Min, limit); stabilized < allowed {
			return allowed
		}
	}
	return stabilized
}

// scaleUpLimit mirrors calculateScaleUpLimitWithScalingRules: the most
// replicas the policies allow, each from the replicas at its period's
// start.
func scaleUpLimit(now time.Time, current float64, up, down []scaleEvent, r Rules) float64 {
	if r.Select == SelectDisabled {
		return current
	}
	pick, result := math.Max, math.Inf(-1)
	if r.Select == SelectMin {
		pick, result = math.Min, math.Inf(1)
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, up) + changeInPeriod(now, p.Period, down)
		proposed := start + float64(p.Value)
		if p.Percent {
			// rounded up, or a small percentage would never add a pod
			proposed = math.Ceil(start * (1 + float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit mirrors calculateScaleDownLimitWithBehaviors: the fewest
// replicas the policies allow. Max, the default, is the biggest change, so
// the lowest count.
func scaleDownLimit(now time.Time, current float64, up, down []scaleEvent, r Rules) float64 {
	if r.Select == SelectDisabled {
		return current
	}
	pick, result := math.Min, math.Inf(1)
	if r.Select == SelectMin {
		pick, result = math.Max, math.Inf(-1)
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(now, p.Period, up) + changeInPeriod(now, p.Period, down)
		proposed := start - float64(p.Value)
		if p.Percent {
			proposed = math.Trunc(start * (1 - float64(p.Value)/100)) // int32(): toward zero
		}
		result = pick(result, proposed)
	}
	return result
}

// changeInPeriod mirrors getReplicasChangePerPeriod: the replicas changed
// by the events strictly inside the last period.
func changeInPeriod(now time.Time, period time.Duration, events []scaleEvent) float64 {
	cutoff := now.Add(-period)
	var n float64
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// storeScaleEvent mirrors the controller's storeScaleEvent: an HPA without
// behavior keeps none; otherwise the event goes in place of the last one
// older than the direction's longest period, or is appended. (Older ones
// left in place still count for a longer period of the other direction,
// as in the controller.)
func (h *HPA) storeScaleEvent(st *hpaState, now time.Time, prev, next float64) {
	if h.Behavior == nil {
		return
	}
	events, rules, change := &st.up, h.Behavior.ScaleUp, next-prev
	if next < prev {
		events, rules, change = &st.down, h.Behavior.ScaleDown, prev-next
	}
	var longest time.Duration
	for _, p := range rules.Policies {
		longest = max(longest, p.Period)
	}
	cutoff := now.Add(-longest)
	old := -1
	for i := range *events {
		if (*events)[i].at.Before(cutoff) {
			(*events)[i].outdated = true // markScaleEventsOutdated
		}
		if (*events)[i].outdated {
			old = i
		}
	}
	e := scaleEvent{at: now, change: change}
	if old >= 0 {
		(*events)[old] = e
		return
	}
	*events = append(*events, e)
}
