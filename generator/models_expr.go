package generator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
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
// (its vars' streams and stateful models): give each
// (deployment, metric) its own (see Cloner). What one evaluation needs
// besides is borrowed from its definition, so 100,000 deployments with
// one expression keep 64 bytes each for a var.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Expr struct {
	def *exprDef
	// vars are the vars' states, in def.names order; nil until Bind or
	// the first evaluation.
	vars []exprVar
}

// numberModel is a model whose values are numbers: nextNum draws exactly
// what Next would and returns its Num, without formatting the text.
type numberModel interface {
	nextNum(r *rand.Rand, at time.Duration) float64
}

// exprVar is one var's state in one Expr: its stream, and its model when
// that keeps state (walk, replay; else nil: the definition's, shared).
type exprVar struct {
	pcg   rand.PCG
	model Model
}

// exprDef is what every Expr of one definition shares, read-only but for
// the pool of activations.
type exprDef struct {
	code   *exprCode
	names  []string // the vars, sorted
	models []Model  // their definitions, cloned per Expr when they keep state
	lo, hi float64
	hasLo  bool
	hasHi  bool
	f      numFormat
	acts   sync.Pool // of *exprAct
}

// exprCode is what every Expr of one expression shares.
type exprCode struct {
	text string
	prg  cel.Program
}

// exprAct is the activation one evaluation reads: the vars' values at
// this tick and the input. An Expr borrows one from its definition's pool
// for the evaluation, since one definition may be run by several
// schedules at once.
type exprAct struct {
	def           *exprDef
	vals          []float64 // in def.names order
	elapsed, tick float64
	state         *State
	src           pcgSource // draws from the var's stream
	draw          *rand.Rand
	replicas, all ref.Val // boxed on first use in this evaluation
	ready         ref.Val
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

// start gives e its streams, unseeded, and its own clones of the vars'
// models that keep state (walk, replay).
func (e *Expr) start() {
	if e.vars != nil {
		return
	}
	e.vars = make([]exprVar, len(e.def.models))
	for i, m := range e.def.models {
		switch m.(type) {
		case *Walk, *Replay:
			e.vars[i].model = CloneModel(m)
		}
	}
}

// Bind implements StateModel: var v draws from Stream(seed, deployment,
// metric + "\x00" + v), a stream no metric's can share (a name has no NUL).
func (e *Expr) Bind(seed int64, deployment, metric string) {
	e.start()
	for i := range e.vars {
		e.vars[i].pcg.Seed(streamSeeds(seed, deployment, metric+"\x00"+e.def.names[i]))
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
	e.start()
	d := e.def
	a := d.act()
	defer d.acts.Put(a)
	for i := range e.vars {
		v := &e.vars[i]
		m := v.model
		if m == nil {
			m = d.models[i]
		}
		a.src.pcg = &v.pcg
		if n, ok := m.(numberModel); ok {
			a.vals[i] = n.nextNum(a.draw, in.At) // the number alone: no text to throw away
		} else {
			a.vals[i] = m.Next(a.draw, in.At).Num
		}
	}
	a.set(in)
	out, _, err := d.code.prg.Eval(a)
	var x float64
	if err == nil {
		x, err = exprNumber(out)
	}
	if err != nil {
		last := in.Last
		if !in.HasLast {
			last = d.f.value(d.clamp(0))
		}
		return last, fmt.Errorf("%w %q: %w", ErrExprEval, d.code.text, err)
	}
	if in.HasLast {
		// A value that moves slowly makes no new string at every tick.
		return d.f.again(d.clamp(x), in.Last), nil
	}
	return d.f.value(d.clamp(x)), nil
}

// act borrows an activation from d's pool; the caller puts it back.
func (d *exprDef) act() *exprAct {
	if a, ok := d.acts.Get().(*exprAct); ok {
		return a
	}
	a := &exprAct{def: d, vals: make([]float64, len(d.names))}
	a.draw = rand.New(&a.src)
	return a
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
// values only when the program asks.
func (a *exprAct) set(in Input) {
	a.elapsed, a.tick = in.At.Seconds(), float64(in.Tick)
	a.state = in.State
	a.replicas, a.ready, a.all = nil, nil, nil
}

// ResolveName implements interpreter.Activation.
func (a *exprAct) ResolveName(name string) (any, bool) {
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
	for i, n := range a.def.names {
		if n == name {
			return types.Double(a.vals[i]), true
		}
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *exprAct) Parent() interpreter.Activation { return nil }
