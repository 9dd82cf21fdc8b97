package generator

import (
	"math/rand/v2"
	"time"
)

// Model produces the values of one metric over time.
//
// Next returns the value for the tick at elapsed time at (measured from the
// start of the run, the first tick at 0). It draws randomness only from r,
// which is the metric's own stream, so the same seed gives the same values.
// A Model may keep state between calls (a random walk does); it is called
// from one goroutine at a time.
type Model interface {
	Next(r *rand.Rand, at time.Duration) Value
}

// Input is what a StateModel sees of its deployment at one tick.
type Input struct {
	// At is the tick's elapsed time since the start of the run.
	At time.Duration
	// Tick is the 0-based index of the tick on the deployment's grid
	// (At = phase + Tick*interval; a deployment added by a reload starts at
	// the index of its first grid point, not at 0).
	Tick int64
	// State is the deployment's observed state; read-only, and valid only
	// during the call.
	State *State
	// Version changes whenever State does, so a model may keep what it
	// derived from a state until then.
	Version uint64
}

// StateModel is a Model whose values depend on the observed state of its
// deployment (an expr). The Schedule calls Bind once when the model joins a
// (deployment, metric), then NextState instead of Next at every tick.
// Models that do not read state implement Model alone and are untouched.
type StateModel interface {
	Model
	// Bind gives the model the run's seed and its names, so that the
	// streams it draws from are keyed by them (see Stream).
	Bind(seed int64, deployment, metric string)
	// NextState returns the value for the tick described by in. A non-nil
	// error reports a problem computing it (a division by zero); the value
	// returned is then a valid stand-in (the previous one) and is sent.
	NextState(r *rand.Rand, in Input) (Value, error)
}

// Cloner is implemented by every built-in model. Clone returns an
// independent model with the same definition in its initial state (a walk
// back at its start, a replay at its first row), so that each deployment
// expanded by `count`, or each run, owns its state. The copy may share
// read-only data with the original.
type Cloner interface {
	Clone() Model
}

// CloneModel returns m.Clone() when m is a Cloner, else m itself (a model
// without a Clone method is taken to be stateless).
func CloneModel(m Model) Model {
	if c, ok := m.(Cloner); ok {
		return c.Clone()
	}
	return m
}

// Bounded is implemented by every built-in model. Allows reports whether a
// received value text is one the model can produce: membership for lists,
// choices, constants and replays; the numeric range for uniform, walk, sine
// and ramp (widened by half the printing resolution); base or peak for a
// spike. Numbers compare by value when both sides parse ("0.50" matches
// "0.5", "500m" matches "0.5"). Safe for concurrent use: it reads only the
// model's definition, never its state.
type Bounded interface {
	Allows(text string) bool
}

// Choice picks uniformly at random from Values: the original behaviour of
// the Python sender for a list in the config.
type Choice struct {
	Values []Value
}

// Next implements Model.
func (c *Choice) Next(r *rand.Rand, _ time.Duration) Value {
	return c.Values[r.IntN(len(c.Values))]
}

// Clone implements Cloner. A Choice has no state, so it is its own clone
// (as are the other stateless models): deployments written alike share one.
func (c *Choice) Clone() Model { return c }

// Allows implements Bounded.
func (c *Choice) Allows(text string) bool { return memberOf(c.Values, text) }
