package judge_test

import (
	"testing"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

func TestJudged(t *testing.T) {
	tests := []struct {
		name    string
		tracked bool
	}{{"without a tracker: the schedule", false}, {"with a tracker: through it", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sched := trackedConfig(t, "")
			var tr *judge.Tracker
			if tt.tracked {
				tr = newTracker(t, sched, judge.TrackerConfig{Config: cfg})
			}
			j := judge.NewJudged(sched, tr)
			if _, isTracker := j.Recorder().(*judge.Tracker); isTracker != tt.tracked {
				t.Errorf("Recorder() is the tracker: %v, want %v", isTracker, tt.tracked)
			}
			events := []generator.Event{ev("3", "1")}
			j.Mint(events)
			if minted := events[0].ID != 0; minted != tt.tracked {
				t.Errorf("Mint gave an id: %v, want %v", minted, tt.tracked)
			}
			if err := j.Observe("web", generator.Observation{Source: "api", Replicas: 4, HasReplicas: true}); err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if st, err := sched.Observed("web"); err != nil || st.Replicas != 4 {
				t.Errorf("the schedule's state after Observe: %+v, %v; want 4 replicas", st, err)
			}
			if _, err := j.Apply(cfg); err != nil {
				t.Errorf("Apply: %v", err)
			}
		})
	}
}
