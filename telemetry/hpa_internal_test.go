package telemetry

import (
	"maps"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/promtest"
)

// The HPA's series: both results at 0 from the start, then what the
// judge's hooks said, as the report counts it.
func TestHPAReactionSeries(t *testing.T) {
	reg := NewRegistry()
	m := NewHPAReaction(reg, func() int { return 2 })
	base := startServer(t, reg)
	fams, _ := promtest.Scrape(t, base)
	if got, want := promtest.SeriesOf(fams, "metricsender_operator_hpa_requests_total"), map[string]float64{"result=applied": 0, "result=superseded": 0}; !maps.Equal(got, want) {
		t.Errorf("before any request: %v, want %v", got, want)
	}
	m.HPAOpened()
	m.HPAOpened()
	m.HPAOpened()
	m.HPAApplied(1500 * time.Millisecond)
	m.HPASuperseded()
	fams, _ = promtest.Scrape(t, base)
	for name, want := range map[string]map[string]float64{
		"metricsender_operator_hpa_requests_total":   {"result=applied": 1, "result=superseded": 1},
		"metricsender_operator_hpa_open_requests":    {"": 1},
		"metricsender_operator_hpa_reaction_seconds": {"": 1},
		"metricsender_operator_hpa_unjudged":         {"": 2},
	} {
		if got := promtest.SeriesOf(fams, name); !maps.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
