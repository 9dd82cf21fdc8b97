package policy_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/policy"
)

// Recommend follows a real controller: a decision not yet applied uses up
// no room of the period, and only the changes reported with Scaled do.
func TestHPARecommendAndScaled(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	req := func(at time.Duration) policy.Request {
		return policy.Request{App: "web", Metrics: map[string]float64{"m": 10}, At: t0.Add(at)}
	}
	tests := []struct {
		name   string
		scaled bool // the controller applied the first decision (1 -> 5) at 1 s
		want   float64
	}{
		{"not applied yet: the second sync asks for the same 5", false, 5},
		{"applied: the period's room is used up, 5 stays", true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hpaFor(t, ",up=4pods/15s,upWindow=0s,max=1000")
			if d := h.Recommend(req(0), 1); d.Replicas != 5 {
				t.Fatalf("first Recommend = %+v, want 5", d)
			}
			given := 1.0
			if tt.scaled {
				h.Scaled("web", t0.Add(time.Second), 1, 5)
				given = 5
			}
			if d := h.Recommend(req(5*time.Second), given); d.Replicas != tt.want {
				t.Errorf("second Recommend at %g replicas = %+v, want %g", given, d, tt.want)
			}
			// Decide, in the same place, would have stored the first change
			// and allowed nothing more from 1 (the room used up twice).
			d := hpaFor(t, ",up=4pods/15s,upWindow=0s,max=1000")
			d.Decide(req(0), 1)
			if got := d.Decide(req(5*time.Second), 1); got.Replicas != 1 {
				t.Errorf("Decide twice from 1 = %+v, want 1 (its own event counts)", got)
			}
		})
	}
}
