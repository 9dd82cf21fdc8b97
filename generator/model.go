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

// Choice picks uniformly at random from Values: the original behaviour of
// the Python sender for a list in the config.
type Choice struct {
	Values []Value
}

// Next implements Model.
func (c *Choice) Next(r *rand.Rand, _ time.Duration) Value {
	return c.Values[r.IntN(len(c.Values))]
}
