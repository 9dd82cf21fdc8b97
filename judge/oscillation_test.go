package judge_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/judge"
)

// Oscillations count flapping, not obedience: a turn of the observed
// replicas counts only when the requested replicas did not turn the same
// way first (within the window), or when it goes past the request.
// Replicas nobody requests (TestTrackerOscillations: an HPA scaling on
// cpu) count every turn within the window, as before.
func TestOscillationsAgainstRequests(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	type step struct {
		sent     string  // replicas requested at this step ("" none)
		observed float64 // replicas observed 1 s later (0 none)
	}
	for _, tt := range []struct {
		name  string
		steps []step
		want  int
	}{
		{"a follow operator on a flipping load", []step{
			{"4", 4}, {"2", 2}, {"4", 4}, {"2", 2}, {"4", 4}, {"3", 3}, {"4", 4},
		}, 0},
		{"a slow follower that reacts after the next tick", []step{
			{"4", 0}, {"4", 4}, {"2", 0}, {"2", 2}, {"4", 0}, {"4", 4},
		}, 0},
		{"one overshoot up, then back", []step{
			{"4", 6}, {"4", 4}, {"4", 4},
		}, 1},
		{"an overshoot each way", []step{
			{"4", 6}, {"4", 4}, {"2", 1}, {"2", 2},
		}, 2},
		{"flapping around a steady request", []step{
			{"4", 4}, {"4", 5}, {"4", 4}, {"4", 5}, {"4", 4},
		}, 3},
		{"against the request", []step{
			{"4", 4}, {"5", 3},
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sched := trackedConfig(t, "")
			tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, OscillationWindow: time.Minute})
			for i, s := range tt.steps {
				at := t0.Add(time.Duration(i) * 10 * time.Second)
				if s.sent != "" {
					tr.Sent(ev(s.sent, "500m"), "", at)
				}
				if s.observed > 0 {
					if err := tr.Observe("web", obs(at.Add(time.Second), s.observed, 0, "")); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := tr.Report(t0, 0).Oscillations; got != tt.want {
				t.Errorf("oscillations %d, want %d", got, tt.want)
			}
		})
	}
}
