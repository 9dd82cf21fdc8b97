package generator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Tolerance says when a value sent and a value observed are the same
// (reaction tracking): when they differ by at most Abs plus Rel times the
// value sent. The zero value is exact (up to float rounding).
type Tolerance struct {
	Rel, Abs float64
}

// Match reports whether observed matches sent within t.
func (t Tolerance) Match(sent, observed float64) bool {
	slack := t.Abs + t.Rel*math.Abs(sent)
	// "Exact" forgives float rounding: 0.1+0.2 is 0.3 here.
	slack = max(slack, 1e-9*max(math.Abs(sent), math.Abs(observed)))
	return math.Abs(sent-observed) <= slack
}

// ParseTolerance reads a tolerance: a percentage ("5%": relative) or a
// number or quantity ("50m": absolute), >= 0.
func ParseTolerance(text string) (Tolerance, error) {
	if pct, ok := strings.CutSuffix(text, "%"); ok {
		v, err := strconv.ParseFloat(pct, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			return Tolerance{}, fmt.Errorf("want a percentage >= 0 (5%%) or a quantity (50m), got %q", text)
		}
		return Tolerance{Rel: v / 100}, nil
	}
	v, err := ParseNumber(text)
	if err != nil || v < 0 {
		return Tolerance{}, fmt.Errorf("want a percentage >= 0 (5%%) or a quantity (50m), got %q", text)
	}
	return Tolerance{Abs: v}, nil
}

// targetProblem says what is wrong with a `targets:` value: replicas,
// allocation.<metric> or none.
func targetProblem(v string) string {
	if v == "replicas" || v == "none" {
		return ""
	}
	if m, ok := strings.CutPrefix(v, "allocation."); ok {
		if msg := metricNameProblem(m); msg != "" {
			return "allocation." + m + ": " + msg
		}
		return ""
	}
	return fmt.Sprintf("want replicas, allocation.<metric> or none, got %q", v)
}
