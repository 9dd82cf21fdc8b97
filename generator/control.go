package generator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrUnknownDeployment is returned (wrapped, with the name) by the control
// methods of Schedule when no deployment of the current config has the name.
var ErrUnknownDeployment = errors.New("unknown deployment")

// ErrUnknownMetric is returned (wrapped, with the names) by Override and
// ClearOverride when the deployment exists but has no metric of that name.
var ErrUnknownMetric = errors.New("unknown metric")

// DeploymentState is a deployment as the schedule runs it, for Snapshot.
type DeploymentState struct {
	Name     string
	Interval time.Duration // the effective one
	Paused   bool
	Seq      uint64 // messages sent so far (the Seq of the last one)
	Metrics  []MetricState
	// State is the observed state and who set each field (see Observe).
	State ObservedState
}

// MetricState is one metric of a DeploymentState.
type MetricState struct {
	Name string
	// Spec is the metric's definition from the config (MetricSpec.Spec).
	Spec any
	// Override is what Override was given as spec (the model itself when
	// that was nil); nil when no override is in force.
	Override any
	// Last is the last value sent, meaningful only when HasLast.
	Last    Value
	HasLast bool
}

// Override makes m produce metric's values of deployment app from the next
// tick on, until ClearOverride; spec is kept to describe it in Snapshot.
// The override draws from the metric's own stream (a StateModel is bound
// to the metric's names, so its vars' streams start over) and survives Apply as
// long as the metric exists. It fails with ErrUnknownDeployment or
// ErrUnknownMetric, or when m is nil. Safe for concurrent use.
func (s *Schedule) Override(app, metric string, m Model, spec any) error {
	if m == nil {
		return fmt.Errorf("override %s.%s: nil model", app, metric)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mt, err := s.metricLocked(app, metric)
	if err != nil {
		return err
	}
	over := &override{spec: spec}
	over.model, over.reads = s.bind(m, app, metric)
	if spec == nil {
		over.spec = m
	}
	mt.over = over
	return nil
}

// ClearOverride returns metric of app to its configured model from the next
// tick. Clearing a metric without an override is not an error. It fails with
// ErrUnknownDeployment or ErrUnknownMetric. Safe for concurrent use.
func (s *Schedule) ClearOverride(app, metric string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mt, err := s.metricLocked(app, metric)
	if err != nil {
		return err
	}
	mt.over = nil
	return nil
}

// Pause stops app from sending: its ticks still come by on the grid but
// send nothing, advance no Seq and do not count toward Count. Pausing a
// paused deployment is a no-op. Pause survives Apply. It fails with
// ErrUnknownDeployment. Safe for concurrent use.
func (s *Schedule) Pause(app string) error {
	return s.setPaused(app, true)
}

// Resume lets a paused app send again from its next grid tick. Resuming a
// running deployment is a no-op. It fails with ErrUnknownDeployment. Safe
// for concurrent use.
func (s *Schedule) Resume(app string) error {
	return s.setPaused(app, false)
}

func (s *Schedule) setPaused(app string, paused bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deps[app]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDeployment, app)
	}
	d.paused = paused
	return nil
}

// Snapshot returns every deployment of the current config, sorted by name,
// with its metrics (sorted by name) and the last values sent. The result is
// a copy the caller owns. Safe for concurrent use.
func (s *Schedule) Snapshot() []DeploymentState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeploymentState, 0, len(s.order))
	for _, d := range s.order {
		out = append(out, d.state())
	}
	slices.SortFunc(out, func(a, b DeploymentState) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SnapshotOf returns app's entry of Snapshot without copying the others
// (false when the current config has no such deployment). Safe for
// concurrent use.
func (s *Schedule) SnapshotOf(app string) (DeploymentState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deps[app]
	if !ok {
		return DeploymentState{}, false
	}
	return d.state(), true
}

// Names returns the names of the deployments of the current config,
// sorted. Safe for concurrent use.
func (s *Schedule) Names() []string {
	s.mu.Lock()
	out := make([]string, len(s.order))
	for i, d := range s.order {
		out[i] = d.name
	}
	s.mu.Unlock()
	slices.Sort(out)
	return out
}

// state is d's entry of a Snapshot; the Schedule's lock is held.
func (d *dep) state() DeploymentState {
	ds := DeploymentState{Name: d.name, Interval: d.interval, Paused: d.paused, Seq: d.seq,
		Metrics: make([]MetricState, len(d.metrics)), State: d.observed().snapshot()}
	for i, m := range d.metrics {
		ds.Metrics[i] = MetricState{Name: m.name, Spec: m.spec, Last: m.last, HasLast: m.hasLast}
		if m.over != nil {
			ds.Metrics[i].Override = m.over.spec
		}
	}
	return ds
}

func (s *Schedule) metricLocked(app, metric string) (*metric, error) {
	d, ok := s.deps[app]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDeployment, app)
	}
	for _, m := range d.metrics {
		if m.name == metric {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: %q of deployment %q", ErrUnknownMetric, metric, app)
}

// specOf is the definition of a metric as the config loader describes it.
func specOf(sp MetricSpec) any {
	return sp.Spec
}
