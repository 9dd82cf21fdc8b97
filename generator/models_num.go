package generator

import (
	"math"
	"math/rand/v2"
	"time"
)

// Uniform draws uniformly from [min, max]: {uniform: {min, max, step}}.
// With a step the values are min + k*step (never above max), printed with a
// fixed number of decimals; without one the range is continuous.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Uniform struct {
	min, max, step float64
	n              int64 // with a step: the grid has n+1 points
	f              numFormat
}

// Next implements Model.
func (u *Uniform) Next(r *rand.Rand, _ time.Duration) Value { return u.f.value(u.raw(r)) }

func (u *Uniform) nextNum(r *rand.Rand, _ time.Duration) float64 { return u.f.num(u.raw(r)) }

// raw draws the next value, before rounding.
func (u *Uniform) raw(r *rand.Rand) float64 {
	if u.step > 0 {
		return u.min + float64(r.Int64N(u.n+1))*u.step
	}
	return u.min + r.Float64()*(u.max-u.min)
}

// Clone implements Cloner; a Uniform has no state.
func (u *Uniform) Clone() Model { return u }

// Allows implements Bounded: a number within [min, max].
func (u *Uniform) Allows(text string) bool { return inRange(text, u.min, u.max, u.f) }

// gridPoints is the number of steps from lo that stay within hi.
func gridPoints(lo, hi, step float64) float64 {
	// The epsilon keeps a grid point that floating-point division puts a
	// hair beyond hi (0.3/0.1 = 2.9999999999999996).
	return math.Floor((hi-lo)/step + 1e-9)
}

// Walk is a bounded random walk: {walk: {start, min, max, step}}. The first
// value is start; each tick then moves up or down by exactly step, turning
// back at the bounds (staying put only when neither move fits), so values
// stay on the grid start + k*step within [min, max]. It keeps state: give
// each (deployment, metric) its own (see Cloner).
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Walk struct {
	start, min, max, step float64
	f                     numFormat
	k                     int64 // current value: start + k*step
	started               bool
}

// Next implements Model.
func (w *Walk) Next(r *rand.Rand, _ time.Duration) Value { return w.f.value(w.raw(r)) }

func (w *Walk) nextNum(r *rand.Rand, _ time.Duration) float64 { return w.f.num(w.raw(r)) }

// raw takes the next step and returns the value, before rounding.
func (w *Walk) raw(r *rand.Rand) float64 {
	if !w.started {
		w.started = true
		return w.start
	}
	dir := int64(1)
	if r.IntN(2) == 0 {
		dir = -1
	}
	switch {
	case w.fits(w.k + dir):
		w.k += dir
	case w.fits(w.k - dir):
		w.k -= dir
	}
	return w.start + float64(w.k)*w.step
}

// fits reports whether grid point k lies within [min, max].
func (w *Walk) fits(k int64) bool {
	v := w.start + float64(k)*w.step
	eps := 1e-9 * max(1, math.Abs(v))
	return v >= w.min-eps && v <= w.max+eps
}

// Clone implements Cloner: the copy starts again at start.
func (w *Walk) Clone() Model {
	c := *w
	c.k, c.started = 0, false
	return &c
}

// Allows implements Bounded: a number within [min, max].
func (w *Walk) Allows(text string) bool { return inRange(text, w.min, w.max, w.f) }

// inRange reports whether text is a number within [lo, hi], widened by the
// rounding of the format.
func inRange(text string, lo, hi float64, f numFormat) bool {
	x, ok := numberOf(text)
	if !ok {
		return false
	}
	tol := f.tolerance(x)
	return x >= lo-tol && x <= hi+tol
}
