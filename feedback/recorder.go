package feedback

import "github.com/labsea/metricsender/generator"

// Recorder is where every source of observations records what it saw:
// the bus source (Bus), the Kubernetes one (package kube) and the control
// API's route in the app all call it. *generator.Schedule is one; the
// judge's tracker wraps the schedule and is one too, and so are the app's
// stand-ins that hold or forward until the schedule exists. Observe fails
// with generator.ErrUnknownDeployment or generator.ErrBadObservation and
// then changes nothing. This is the one declaration of the method:
// declare no other interface with it; embed this one.
type Recorder interface {
	Observe(app string, ob generator.Observation) error
}
