package judge

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// The summary's numbers: pure, and free of the Tracker, so that the
// delivery checker's summary can share them.

// quantiles are the exact p50, p99 and maximum of ds (nearest rank), in
// seconds rounded to 3 decimals for printing; nil when ds is empty.
func quantiles(ds []time.Duration) (p50, p99, top *float64) {
	if len(ds) == 0 {
		return nil, nil, nil
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) *float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		v := round3(s[max(i, 0)].Seconds())
		return &v
	}
	return rank(0.5), rank(0.99), rank(1)
}

// round3 rounds seconds to 3 decimals: for printing only, never for a
// verdict.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// seconds prints v with 3 decimals, "-" when nil.
func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}
