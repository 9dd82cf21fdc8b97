package generator

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// ErrBadObservation is returned (wrapped, with the reason) by Observe when
// an Observation has no source or holds a value that cannot be a state
// (negative, not finite, a bad allocation name).
var ErrBadObservation = errors.New("bad observation")

// SourceConfig names the config file (a deployment's `state:`, or the
// defaults) as the source of a state field in StateSources.
const SourceConfig = "config"

// State is the observed state of a deployment: what the operator under
// test did with it. Values are doubles in base units ("500m" is 0.5).
//
// Replicas is the desired replica count, Ready the ready replicas and
// Allocation what is applied per metric (the CPU request, say), by metric
// name. A deployment without a `state:` starts with Replicas 1, Ready 1 and
// no allocation.
type State struct {
	Replicas   float64            `json:"replicas"`
	Ready      float64            `json:"ready"`
	Allocation map[string]float64 `json:"allocation,omitempty"`
}

// defaultState is the state of a deployment whose config has no `state:`.
var defaultState = State{Replicas: 1, Ready: 1}

// clone returns a copy of st that shares no map with it.
func (st State) clone() State {
	st.Allocation = maps.Clone(st.Allocation)
	return st
}

// Source says who set one field of an observed state, and when.
type Source struct {
	// Name is the feedback source: SourceConfig for the file's `state:`
	// (or the defaults), else the name the Observation gave ("api", "bus",
	// "kubernetes").
	Name string
	// At is when the observation was made; zero for SourceConfig.
	At time.Time
}

// StateSources records who set each field of an ObservedState.
type StateSources struct {
	Replicas, Ready Source
	Allocation      map[string]Source
}

// ObservedState is a deployment's observed state and who set each field.
type ObservedState struct {
	State
	Sources StateSources
}

// Observation is what a feedback source saw of one deployment. Only the
// fields it carries change the state: the Has flags say which of Replicas
// and Ready it holds, and each Allocation key sets that metric alone.
// Without Ready, an observation with Replicas sets Ready to Replicas too
// (an operator reports what it applied, and the simulation takes it as
// done).
type Observation struct {
	// Source names who saw it ("api", "bus", "kubernetes"); required.
	Source string
	// At is when it was seen; zero means the time Observe is called.
	At                    time.Time
	Replicas, Ready       float64
	HasReplicas, HasReady bool
	// Allocation by metric name, in base units; nil or empty for none.
	Allocation map[string]float64
	// CorrelationID names the request (the Metrics.{app} message) the
	// observation answers, when the source knows it (the bus); it changes
	// no state, and lets reaction tracking close exactly that request.
	CorrelationID string
}

// observed is the live observed state of a deployment, guarded by the
// Schedule's lock.
type observed struct {
	st  State // the Allocation map is owned here and changed in place
	src StateSources
	// version changes whenever st does, so a model can keep what it
	// derived from a state until the state moves (see Input.Version).
	version uint64
}

// newObserved is the state a deployment starts with: init (its `state:`),
// or nil for the defaults (see dep.observed): a deployment without
// `state:` holds no state of its own until something is observed.
func newObserved(init *State) *observed {
	if init == nil {
		return nil
	}
	return newObservedFrom(init.clone())
}

// defaultObserved is the state of every deployment without `state:` that
// nothing has observed yet. Read-only: dep.own copies it before a change.
var defaultObserved = newObservedFrom(defaultState)

func newObservedFrom(st State) *observed {
	o := &observed{st: st, src: StateSources{Replicas: Source{Name: SourceConfig}, Ready: Source{Name: SourceConfig}}}
	if len(st.Allocation) > 0 {
		o.src.Allocation = make(map[string]Source, len(st.Allocation))
		for k := range st.Allocation {
			o.src.Allocation[k] = Source{Name: SourceConfig}
		}
	}
	return o
}

// snapshot returns a copy of o the caller owns.
func (o *observed) snapshot() ObservedState {
	return ObservedState{State: o.st.clone(), Sources: StateSources{
		Replicas: o.src.Replicas, Ready: o.src.Ready, Allocation: maps.Clone(o.src.Allocation),
	}}
}

// apply records ob (already checked), field by field.
func (o *observed) apply(ob Observation) {
	src := Source{Name: ob.Source, At: ob.At}
	if ob.HasReplicas {
		o.st.Replicas, o.src.Replicas = ob.Replicas, src
		if !ob.HasReady {
			o.st.Ready, o.src.Ready = ob.Replicas, src
		}
	}
	if ob.HasReady {
		o.st.Ready, o.src.Ready = ob.Ready, src
	}
	if len(ob.Allocation) > 0 {
		if o.st.Allocation == nil {
			o.st.Allocation = make(map[string]float64, len(ob.Allocation))
		}
		if o.src.Allocation == nil {
			o.src.Allocation = make(map[string]Source, len(ob.Allocation))
		}
		for k, v := range ob.Allocation {
			o.st.Allocation[k], o.src.Allocation[k] = v, src
		}
	}
	o.version++
}

// checkObservation reports every reason ob cannot be recorded.
func checkObservation(ob Observation) error {
	var errs []error
	if ob.Source == "" {
		errs = append(errs, errors.New("source: empty"))
	}
	if ob.HasReplicas {
		if msg := stateValueProblem(ob.Replicas); msg != "" {
			errs = append(errs, fmt.Errorf("replicas: %s", msg))
		}
	}
	if ob.HasReady {
		if msg := stateValueProblem(ob.Ready); msg != "" {
			errs = append(errs, fmt.Errorf("ready: %s", msg))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ob.Allocation)) {
		if msg := metricNameProblem(k); msg != "" {
			errs = append(errs, fmt.Errorf("allocation %q: %s", k, msg))
		} else if msg := stateValueProblem(ob.Allocation[k]); msg != "" {
			errs = append(errs, fmt.Errorf("allocation.%s: %s", k, msg))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadObservation, err)
	}
	return nil
}

// stateValueProblem says what is wrong with a state value, or "".
func stateValueProblem(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprintf("must be a finite number, got %v", v)
	case v < 0:
		return fmt.Sprintf("must be >= 0, got %v", v)
	case v > maxMagnitude:
		return fmt.Sprintf("must be at most %g, got %v", maxMagnitude, v)
	}
	return ""
}

// Observe records what a feedback source saw of deployment app: each field
// ob carries replaces that field of app's observed state (the latest
// observation wins, field by field, in the order Observe is called), and
// the values take effect from app's next tick. A reload (Apply) keeps the
// observed state of deployments that remain. It fails with
// ErrUnknownDeployment when no deployment of the current config has the
// name, and with ErrBadObservation when ob is invalid; then nothing
// changes. Safe for concurrent use.
func (s *Schedule) Observe(app string, ob Observation) error {
	if err := checkObservation(ob); err != nil {
		return fmt.Errorf("observe %q: %w", app, err)
	}
	if ob.At.IsZero() {
		ob.At = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deps[app]
	if !ok {
		return fmt.Errorf("observe: %w: %q", ErrUnknownDeployment, app)
	}
	d.own().apply(ob)
	return nil
}

// Observed returns a copy of app's observed state and who set each field.
// It fails with ErrUnknownDeployment. Safe for concurrent use.
func (s *Schedule) Observed(app string) (ObservedState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deps[app]
	if !ok {
		return ObservedState{}, fmt.Errorf("%w: %q", ErrUnknownDeployment, app)
	}
	return d.observed().snapshot(), nil
}

// AppState is one deployment's observed state, for ObservedStates.
type AppState struct {
	App   string
	State State
}

// ObservedStates returns the observed state of every deployment of the
// current config, sorted by name, without the sources: the cheap read a
// metrics scrape needs. The result is a copy the caller owns. Safe for
// concurrent use.
func (s *Schedule) ObservedStates() []AppState {
	s.mu.Lock()
	out := make([]AppState, 0, len(s.order))
	for _, d := range s.order {
		out = append(out, AppState{App: d.name, State: d.observed().st.clone()})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b AppState) int { return strings.Compare(a.App, b.App) })
	return out
}

// ParseNumber parses a state value as feedback carries it, a plain decimal
// ("0.75", "4") or a Kubernetes quantity ("750m", "1Gi"), into base units.
// Quantities finer than 1m and magnitudes over 9e15 are errors. Safe for
// concurrent use.
func ParseNumber(text string) (float64, error) {
	n, err := parseNumber(text)
	if err != nil {
		return 0, err
	}
	return n.v, nil
}
