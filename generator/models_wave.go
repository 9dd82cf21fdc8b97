package generator

import (
	"math"
	"math/rand/v2"
	"time"
)

// Sine oscillates between min and max: {sine: {min, max, period, phase}}.
// It starts at min (at elapsed time -phase), reaches max half a period
// later and is back at min after a full period:
// min + (max-min) * (1 - cos(2π (at+phase)/period)) / 2.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Sine struct {
	min, max      float64
	period, phase time.Duration
	f             numFormat
}

// Next implements Model.
func (s *Sine) Next(_ *rand.Rand, at time.Duration) Value { return s.f.value(s.raw(at)) }

func (s *Sine) nextNum(_ *rand.Rand, at time.Duration) float64 { return s.f.num(s.raw(at)) }

// raw is the value at elapsed time at, before rounding.
func (s *Sine) raw(at time.Duration) float64 {
	t := (at + s.phase) % s.period
	if t < 0 {
		t += s.period
	}
	x := float64(t) / float64(s.period)
	v := s.min + (s.max-s.min)*(1-math.Cos(2*math.Pi*x))/2
	return min(max(v, s.min), s.max)
}

// Clone implements Cloner; a Sine has no state.
func (s *Sine) Clone() Model { return s }

// Allows implements Bounded: a number within [min, max].
func (s *Sine) Allows(text string) bool { return inRange(text, s.min, s.max, s.f) }

// Ramp moves linearly from `from` to `to` over the duration `over`, then
// holds `to`: {ramp: {from, to, over}}. A ramp may go down (from > to).
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Ramp struct {
	from, to float64
	over     time.Duration
	f        numFormat
}

// Next implements Model.
func (r *Ramp) Next(_ *rand.Rand, at time.Duration) Value { return r.f.value(r.raw(at)) }

func (r *Ramp) nextNum(_ *rand.Rand, at time.Duration) float64 { return r.f.num(r.raw(at)) }

// raw is the value at elapsed time at, before rounding.
func (r *Ramp) raw(at time.Duration) float64 {
	switch {
	case at >= r.over:
		return r.to
	case at <= 0:
		return r.from
	}
	return r.from + (r.to-r.from)*float64(at)/float64(r.over)
}

// Clone implements Cloner; a Ramp has no state.
func (r *Ramp) Clone() Model { return r }

// Allows implements Bounded: a number between from and to.
func (r *Ramp) Allows(text string) bool {
	return inRange(text, min(r.from, r.to), max(r.from, r.to), r.f)
}

// Spike sends peak during [k*every, k*every+for) and base otherwise:
// {spike: {base, peak, every, for}}.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Spike struct {
	base, peak Value
	every, dur time.Duration
	f          numFormat
}

// Next implements Model.
func (s *Spike) Next(_ *rand.Rand, at time.Duration) Value {
	t := at % s.every
	if t < 0 {
		t += s.every
	}
	if t < s.dur {
		return s.peak
	}
	return s.base
}

// Clone implements Cloner; a Spike has no state.
func (s *Spike) Clone() Model { return s }

// Allows implements Bounded: the base or the peak.
func (s *Spike) Allows(text string) bool {
	x, ok := numberOf(text)
	if !ok {
		return false
	}
	tol := s.f.tolerance(x)
	return math.Abs(x-s.base.Num) <= tol || math.Abs(x-s.peak.Num) <= tol
}
