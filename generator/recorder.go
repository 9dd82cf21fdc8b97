package generator

// Recorder is where every source of observations records what it saw: the
// bus and Kubernetes sources (package feedback), the control API's state
// route (package control), and the judge's tracker, which wraps the
// schedule. *Schedule is one. Observe fails with ErrUnknownDeployment or
// ErrBadObservation and then changes nothing. It is declared here, beside
// Observation, so that every package that records or forwards observations
// can name it without importing another: this is the one declaration of
// the method; declare no other interface with it, embed this one.
type Recorder interface {
	Observe(app string, ob Observation) error
}
