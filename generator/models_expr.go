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

// Expr computes a metric from a CEL expression over its vars and the
// deployment's observed state: {expr: "load / replicas", vars: {load:
// {sine: ...}}, min: 50m, max: 4}. See the package doc for the variables,
// the output format and what happens on a run-time error. It keeps state
// (its vars' models and streams, its last value): give each (deployment,
// metric) its own (see Cloner). A clone holds only a pointer to the shared
// definition until it is bound or first evaluated, so the copies `count`
// makes cost little in a Config.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Expr struct {
	def *exprDef
	run *exprRun // nil until Bind or the first evaluation
}

// exprDef is what every Expr of one definition shares, read-only.
type exprDef struct {
	code   *exprCode
	names  []string // the vars, sorted
	models []Model  // their definitions, cloned per run when they keep state
	lo, hi float64
	hasLo  bool
	hasHi  bool
	f      numFormat
}

// exprCode is what every Expr of one expression shares.
type exprCode struct {
	text string
	prg  cel.Program
}

// exprRun is an Expr's state, and the activation its program reads.
type exprRun struct {
	def    *exprDef
	vars   []exprVar // allocated once: each stream points into it
	last   Value
	primed bool // last holds a value

	elapsed, tick        float64
	state                *State
	version              uint64 // of state; the boxed values below are of it
	boxed                bool
	replicas, ready, all ref.Val
}

// exprVar is one of an Expr's vars: a model drawing from its own stream.
type exprVar struct {
	model  Model
	pcg    rand.PCG
	stream rand.Rand
	val    float64 // at this tick
}

// ErrExprEval wraps every run-time error of an expression (see NextState).
var ErrExprEval = errors.New("expression")

// newExpr returns an Expr of code.
func newExpr(code *exprCode, names []string, models []Model, lo, hi *float64, f numFormat) *Expr {
	d := &exprDef{code: code, names: names, models: models, f: f}
	if lo != nil {
		d.lo, d.hasLo = *lo, true
	}
	if hi != nil {
		d.hi, d.hasHi = *hi, true
	}
	return &Expr{def: d}
}

// Clone implements Cloner: fresh vars, unseeded streams, no last value.
func (e *Expr) Clone() Model { return &Expr{def: e.def} }

// start gives e its run state: vars with unseeded streams, the models
// that keep state (walk, replay) cloned, the others shared.
func (e *Expr) start() *exprRun {
	if e.run != nil {
		return e.run
	}
	r := &exprRun{def: e.def, vars: make([]exprVar, len(e.def.models))}
	for i, m := range e.def.models {
		v := &r.vars[i]
		v.model = m
		switch m.(type) {
		case *Walk, *Replay:
			v.model = CloneModel(m)
		}
		v.stream = *rand.New(&v.pcg)
	}
	e.run = r
	return r
}

// Bind implements StateModel: var v draws from Stream(seed, deployment,
// metric + "\x00" + v), a stream no metric's can share (a name has no NUL).
func (e *Expr) Bind(seed int64, deployment, metric string) {
	r := e.start()
	for i := range r.vars {
		r.vars[i].pcg.Seed(streamSeeds(seed, deployment, metric+"\x00"+e.def.names[i]))
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
	r, d := e.start(), e.def
	for i := range r.vars {
		v := &r.vars[i]
		v.val = v.model.Next(&v.stream, in.At).Num
	}
	r.set(in)
	out, _, err := d.code.prg.Eval(r)
	var x float64
	if err == nil {
		x, err = exprNumber(out)
	}
	if err != nil {
		if !r.primed {
			r.last, r.primed = d.f.value(d.clamp(0)), true
		}
		return r.last, fmt.Errorf("%w %q: %w", ErrExprEval, d.code.text, err)
	}
	r.last, r.primed = d.f.value(d.clamp(x)), true
	return r.last, nil
}

// clamp bounds x to [min, max] where given; min wins over max for the
// first tick's stand-in 0 (min <= max is checked at load).
func (e *exprDef) clamp(x float64) float64 {
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
	d := e.def
	tol := d.f.tolerance(x)
	return (!d.hasLo || x >= d.lo-tol) && (!d.hasHi || x <= d.hi+tol)
}

// set points the activation at in. The state's values are boxed into CEL
// values once per state version, the others only when the program asks.
func (r *exprRun) set(in Input) {
	r.elapsed, r.tick = in.At.Seconds(), float64(in.Tick)
	if !r.boxed || r.version != in.Version || r.state != in.State {
		r.state, r.version, r.boxed = in.State, in.Version, true
		r.replicas, r.ready, r.all = nil, nil, nil
	}
}

// ResolveName implements interpreter.Activation.
func (r *exprRun) ResolveName(name string) (any, bool) {
	switch name {
	case "replicas":
		if r.replicas == nil {
			r.replicas = types.Double(r.state.Replicas)
		}
		return r.replicas, true
	case "ready":
		if r.ready == nil {
			r.ready = types.Double(r.state.Ready)
		}
		return r.ready, true
	case "allocation":
		if r.all == nil {
			m := make(map[ref.Val]ref.Val, len(r.state.Allocation))
			for k, v := range r.state.Allocation {
				m[types.String(k)] = types.Double(v)
			}
			r.all = types.NewRefValMap(types.DefaultTypeAdapter, m)
		}
		return r.all, true
	case "elapsed":
		return types.Double(r.elapsed), true
	case "tick":
		return types.Double(r.tick), true
	}
	for i, n := range r.def.names {
		if n == name {
			return types.Double(r.vars[i].val), true
		}
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (r *exprRun) Parent() interpreter.Activation { return nil }
