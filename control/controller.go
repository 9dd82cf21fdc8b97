package control

import (
	"errors"
	"sync/atomic"

	"github.com/labsea/metricsender/generator"
)

// Controller is the running schedule as the control API steers it;
// *generator.Schedule is one. Every method but Snapshot fails with an error
// wrapping generator.ErrUnknownDeployment or generator.ErrUnknownMetric
// for a name the schedule does not have.
type Controller interface {
	// Snapshot is every deployment's state (sorted by name), as GET shows
	// it; a copy the caller owns.
	Snapshot() []generator.DeploymentState
	// Override makes m the model of app's metric from the next tick; spec
	// is its definition, which GET shows.
	Override(app, metric string, m generator.Model, spec any) error
	// ClearOverride puts the configured model back.
	ClearOverride(app, metric string) error
	// Pause stops app's messages; Resume sends them again.
	Pause(app string) error
	Resume(app string) error
	// Observe records what a feedback source saw of app (the state PUT
	// route with --feedback api).
	generator.Recorder
}

// FaultController is the fault injector as the fault routes steer it;
// *generator.Injector is one.
type FaultController interface {
	// Faults is app's faults in effect and where they come from
	// ("config", "control"); nil when none.
	Faults(app string) (*generator.Faults, string)
	// SetFaults replaces app's faults; SetAllFaults every deployment's.
	SetFaults(app string, f *generator.Faults)
	SetAllFaults(f *generator.Faults)
	// ClearFaults undoes SetFaults for app or, when app is "", every
	// SetFaults and SetAllFaults: the config's faults apply again.
	ClearFaults(app string)
}

// errNotStarted is what a Late answers before its schedule is set.
var errNotStarted = errors.New("the schedule has not started yet (waiting for the broker connection)")

// Late is a Controller whose schedule arrives later: it lets the HTTP
// server (and /healthz, /readyz) start before the broker connection and the
// schedule exist. Before Set, Snapshot is empty and the other methods fail
// with a "not started" error (the routes answer 503); before SetInjector, the fault routes answer
// 503 and GET shows no faults. The zero value is ready to use. Safe for
// concurrent use.
type Late struct {
	p      atomic.Pointer[controllerBox]
	faults atomic.Pointer[faultControllerBox]
}

type controllerBox struct{ c Controller }

type faultControllerBox struct{ f FaultController }

// Set makes c the controller from now on.
func (l *Late) Set(c Controller) { l.p.Store(&controllerBox{c}) }

// SetInjector makes f the fault controller from now on.
func (l *Late) SetInjector(f FaultController) {
	l.faults.Store(&faultControllerBox{f})
}

func (l *Late) get() Controller {
	if b := l.p.Load(); b != nil {
		return b.c
	}
	return nil
}

// injector returns the fault controller, nil before SetInjector.
func (l *Late) injector() FaultController {
	if b := l.faults.Load(); b != nil {
		return b.f
	}
	return nil
}

// Snapshot implements Controller.
func (l *Late) Snapshot() []generator.DeploymentState {
	if c := l.get(); c != nil {
		return c.Snapshot()
	}
	return nil
}

// Override implements Controller.
func (l *Late) Override(app, metric string, m generator.Model, spec any) error {
	if c := l.get(); c != nil {
		return c.Override(app, metric, m, spec)
	}
	return errNotStarted
}

// ClearOverride implements Controller.
func (l *Late) ClearOverride(app, metric string) error {
	if c := l.get(); c != nil {
		return c.ClearOverride(app, metric)
	}
	return errNotStarted
}

// Pause implements Controller.
func (l *Late) Pause(app string) error {
	if c := l.get(); c != nil {
		return c.Pause(app)
	}
	return errNotStarted
}

// Resume implements Controller.
func (l *Late) Resume(app string) error {
	if c := l.get(); c != nil {
		return c.Resume(app)
	}
	return errNotStarted
}

// Observe implements Controller.
func (l *Late) Observe(app string, ob generator.Observation) error {
	if c := l.get(); c != nil {
		return c.Observe(app, ob)
	}
	return errNotStarted
}
