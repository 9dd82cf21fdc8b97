package generator

import (
	"math/rand/v2"
	"sort"
	"time"
)

// Weighted picks from a list with given weights: {choice: [...], weights: [...]}.
// Values are sent as written.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Weighted struct {
	values []Value
	cum    []float64 // cumulative weights; the last is the total (> 0)
}

// Next implements Model.
func (w *Weighted) Next(r *rand.Rand, _ time.Duration) Value {
	x := r.Float64() * w.cum[len(w.cum)-1]
	// The first cumulative weight above x: a zero weight is never picked.
	i := sort.Search(len(w.cum), func(i int) bool { return w.cum[i] > x })
	return w.values[min(i, len(w.values)-1)]
}

// Clone implements Cloner; a Weighted has no state.
func (w *Weighted) Clone() Model { return w }

// Allows implements Bounded: a value with a weight above zero.
func (w *Weighted) Allows(text string) bool {
	prev := 0.0
	for i, c := range w.cum {
		if c > prev && memberOf(w.values[i:i+1], text) {
			return true
		}
		prev = c
	}
	return false
}

// Constant sends one value, as written, at every tick.
//
// Build one with Parse or ParseModel; the zero value is not usable.
type Constant struct {
	value Value
}

// Next implements Model.
func (c *Constant) Next(*rand.Rand, time.Duration) Value { return c.value }

// Clone implements Cloner; a Constant has no state.
func (c *Constant) Clone() Model { return c }

// Allows implements Bounded.
func (c *Constant) Allows(text string) bool { return memberOf([]Value{c.value}, text) }

// memberOf reports whether text is one of values: the same text, or the
// same number when both parse.
func memberOf(values []Value, text string) bool {
	for _, v := range values {
		if v.Text == text {
			return true
		}
	}
	num, ok := numberOf(text)
	if !ok {
		return false
	}
	for _, v := range values {
		if v.HasNum && v.Num == num {
			return true
		}
	}
	return false
}

// memberSet answers memberOf for long lists (replays) in constant time.
type memberSet struct {
	texts map[string]bool
	nums  map[float64]bool
}

func newMemberSet(values []Value) memberSet {
	s := memberSet{texts: make(map[string]bool), nums: make(map[float64]bool)}
	for _, v := range values {
		s.texts[v.Text] = true
		if v.HasNum {
			s.nums[v.Num] = true
		}
	}
	return s
}

func (s memberSet) has(text string) bool {
	if s.texts[text] {
		return true
	}
	num, ok := numberOf(text)
	return ok && s.nums[num]
}
