package generator

import (
	"slices"
	"time"
)

// FaultKind names one kind of injected fault.
type FaultKind string

// The fault kinds, in FaultKinds order.
const (
	FaultDrop      FaultKind = "drop"      // the message is not sent; its seq is used up
	FaultDuplicate FaultKind = "duplicate" // sent again (Times extra copies), same seq and correlation id
	FaultDelay     FaultKind = "delay"     // held back and sent By later
	FaultStale     FaultKind = "stale"     // its time set By in the past
	FaultCorrupt   FaultKind = "corrupt"   // one metric's value replaced by one of Values
	FaultOmit      FaultKind = "omit"      // one metric left out
	FaultSilence   FaultKind = "silence"   // nothing sent during a window; seqs used up
	FaultBurst     FaultKind = "burst"     // sent Times extra times at once
)

// FaultKinds lists every kind in a fixed order: the order in which they are
// drawn, listed in an envelope's fault field, and reported in summaries.
var FaultKinds = []FaultKind{FaultDrop, FaultDuplicate, FaultDelay, FaultStale, FaultCorrupt, FaultOmit, FaultSilence, FaultBurst}

// DefaultCorruptValues are what corrupt writes when the config lists none:
// values an operator must survive.
var DefaultCorruptValues = []string{"NaN", "-1", "", "abc", "1e308", "Infinity"}

// FaultSpec is one kind's settings in a `faults:` section.
type FaultSpec struct {
	Kind FaultKind
	// P is the probability per message, used when Every is 0.
	P float64
	// Every and For: the fault is on during [k*Every, k*Every+For) of the
	// run, like the spike model; 0 when P decides.
	Every, For time.Duration
	// Times is the number of extra copies (duplicate, burst).
	Times int
	// By is how late (delay) or how old (stale) the message is.
	By time.Duration
	// Metrics the fault may touch (corrupt, omit); nil means all.
	Metrics []string
	// Values corrupt writes.
	Values []string
}

// on reports whether the scheduled window holds elapsed time at.
func (s *FaultSpec) on(at time.Duration) bool {
	return s.Every > 0 && at%s.Every < s.For
}

// Faults is a parsed `faults:` section: at most one spec per kind, in
// FaultKinds order. A nil *Faults injects nothing.
type Faults struct {
	Specs []FaultSpec
	// Spec is the section in the config's form, JSON-marshalable and
	// accepted back by ParseFaults. Read-only.
	Spec any
}

// Has reports whether f configures kind.
func (f *Faults) Has(kind FaultKind) bool {
	return f != nil && slices.ContainsFunc(f.Specs, func(s FaultSpec) bool { return s.Kind == kind })
}

// faultsOf returns the faults in effect for d: its own section when it has
// one (even an empty one), else the config's.
func faultsOf(cfg *Config, d *Deployment) *Faults {
	if d.Faults != nil {
		return d.Faults
	}
	return cfg.Faults
}

// HasFaults reports whether any deployment of cfg has faults in effect.
func (c *Config) HasFaults() bool {
	for i := range c.Deployments {
		if f := faultsOf(c, &c.Deployments[i]); f != nil && len(f.Specs) > 0 {
			return true
		}
	}
	return false
}
