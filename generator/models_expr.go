package generator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

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

// Expr computes a metric from a CEL expression over its vars and the
// deployment's observed state: {expr: "load / replicas", vars: {load:
// {sine: ...}}, min: 50m, max: 4}. See the package doc for the variables,
// the output format and what happens on a run-time error. It keeps state
// (its vars' models and streams, its last value): give each (deployment,
// metric) its own (see Cloner).
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Expr struct {
	code   *exprCode // shared by clones, read-only
	vars   []exprVar // allocated once: each stream points into it
	lo, hi float64
	hasLo  bool
	hasHi  bool
	f      numFormat
	act    exprActivation
	last   Value
	primed bool // last holds a value
}

// exprCode is what every Expr of one expression shares.
type exprCode struct {
	text string
	prg  cel.Program
}

// exprVar is one of an Expr's vars: a model drawing from its own stream.
type exprVar struct {
	name   string
	model  Model
	pcg    rand.PCG
	stream rand.Rand
}

// ErrExprEval wraps every run-time error of an expression (see NextState).
var ErrExprEval = errors.New("expression")

// newExpr returns an Expr of code with fresh copies of vars' models.
func newExpr(code *exprCode, names []string, models []Model, lo, hi *float64, f numFormat) *Expr {
	e := &Expr{code: code, f: f}
	if lo != nil {
		e.lo, e.hasLo = *lo, true
	}
	if hi != nil {
		e.hi, e.hasHi = *hi, true
	}
	e.vars = make([]exprVar, len(names))
	e.act.names = names
	e.act.vals = make([]float64, len(names))
	for i := range e.vars {
		v := &e.vars[i]
		v.name, v.model = names[i], CloneModel(models[i])
		v.stream = *rand.New(&v.pcg)
	}
	return e
}

// Clone implements Cloner: fresh vars, unseeded streams, no last value.
func (e *Expr) Clone() Model {
	models := make([]Model, len(e.vars))
	for i, v := range e.vars {
		models[i] = v.model
	}
	c := newExpr(e.code, e.act.names, models, nil, nil, e.f)
	c.lo, c.hasLo, c.hi, c.hasHi = e.lo, e.hasLo, e.hi, e.hasHi
	return c
}

// Bind implements StateModel: var v draws from Stream(seed, deployment,
// metric + "\x00" + v), a stream no metric's can share (a name has no NUL).
func (e *Expr) Bind(seed int64, deployment, metric string) {
	for i := range e.vars {
		v := &e.vars[i]
		v.pcg.Seed(streamSeeds(seed, deployment, metric+"\x00"+v.name))
	}
}

// Next implements Model: NextState at tick 0 with the default state
// (replicas 1, ready 1, no allocation), its error dropped. The Schedule
// calls NextState.
func (e *Expr) Next(r *rand.Rand, at time.Duration) Value {
	st := defaultState
	v, _ := e.NextState(r, Input{At: at, State: &st})
	return v
}

// NextState implements StateModel. Each var draws its next value first,
// so the streams advance the same whether the expression succeeds or not.
// The result is clamped to [min, max] and formatted. A run-time error (a
// division by zero, a missing allocation key, a non-finite or out-of-range
// result) returns the previous value (on the first tick: min when given,
// else 0 within max) with an error wrapping ErrExprEval. Never panics.
func (e *Expr) NextState(_ *rand.Rand, in Input) (Value, error) {
	for i := range e.vars {
		e.act.vals[i] = e.vars[i].model.Next(&e.vars[i].stream, in.At).Num
	}
	e.act.set(in)
	out, _, err := e.code.prg.Eval(&e.act)
	var x float64
	if err == nil {
		x, err = exprNumber(out)
	}
	if err != nil {
		if !e.primed {
			e.last, e.primed = e.f.value(e.clamp(0)), true
		}
		return e.last, fmt.Errorf("%w %q: %w", ErrExprEval, e.code.text, err)
	}
	e.last, e.primed = e.f.value(e.clamp(x)), true
	return e.last, nil
}

// clamp bounds x to [min, max] where given; min wins over max for the
// first tick's stand-in 0 (min <= max is checked at load).
func (e *Expr) clamp(x float64) float64 {
	if e.hasHi {
		x = min(x, e.hi)
	}
	if e.hasLo {
		x = max(x, e.lo)
	}
	return x
}

// exprNumber is an expression's result as a float64: int, uint and double
// results are numbers; a non-finite or too large one is an error.
func exprNumber(v ref.Val) (float64, error) {
	var x float64
	switch n := v.(type) {
	case types.Double:
		x = float64(n)
	case types.Int:
		x = float64(n)
	case types.Uint:
		x = float64(n)
	default:
		return 0, fmt.Errorf("result %v (%s) is not a number", v, v.Type())
	}
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return 0, fmt.Errorf("result %v is not a finite number", x)
	case math.Abs(x) > maxMagnitude:
		return 0, fmt.Errorf("result %g is out of range (at most %g in magnitude)", x, maxMagnitude)
	}
	return x, nil
}

// Allows implements Bounded: a number within [min, max] where given (any
// number without bounds).
func (e *Expr) Allows(text string) bool {
	x, ok := numberOf(text)
	if !ok {
		return false
	}
	tol := e.f.tolerance(x)
	return (!e.hasLo || x >= e.lo-tol) && (!e.hasHi || x <= e.hi+tol)
}

// exprActivation resolves an expression's variables. It holds plain
// numbers and boxes one into a CEL value only when the program asks for
// it; the state's values are boxed once per state version. One per Expr,
// reused at every tick.
type exprActivation struct {
	names   []string  // the vars' names
	vals    []float64 // their values at this tick
	elapsed float64
	tick    float64

	version              uint64 // of the state below; valid when boxed
	boxed                bool
	replicas, ready, all ref.Val
	state                *State
}

// set points the activation at in.
func (a *exprActivation) set(in Input) {
	a.elapsed, a.tick = in.At.Seconds(), float64(in.Tick)
	if !a.boxed || a.version != in.Version || a.state != in.State {
		a.state, a.version, a.boxed = in.State, in.Version, true
		a.replicas, a.ready, a.all = nil, nil, nil
	}
}

// ResolveName implements interpreter.Activation.
func (a *exprActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "replicas":
		if a.replicas == nil {
			a.replicas = types.Double(a.state.Replicas)
		}
		return a.replicas, true
	case "ready":
		if a.ready == nil {
			a.ready = types.Double(a.state.Ready)
		}
		return a.ready, true
	case "allocation":
		if a.all == nil {
			m := make(map[ref.Val]ref.Val, len(a.state.Allocation))
			for k, v := range a.state.Allocation {
				m[types.String(k)] = types.Double(v)
			}
			a.all = types.NewRefValMap(types.DefaultTypeAdapter, m)
		}
		return a.all, true
	case "elapsed":
		return types.Double(a.elapsed), true
	case "tick":
		return types.Double(a.tick), true
	}
	for i, n := range a.names {
		if n == name {
			return types.Double(a.vals[i]), true
		}
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *exprActivation) Parent() interpreter.Activation { return nil }
