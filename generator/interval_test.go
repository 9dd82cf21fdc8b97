package generator_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

func TestScheduleMinInterval(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		opts generator.ScheduleOptions
		want time.Duration
	}{
		{"the default", "deployments:\n  - {name: a, metrics: {cpu: [1]}}\n", generator.ScheduleOptions{}, generator.DefaultInterval},
		{"the config's", "interval: 20s\ndeployments:\n  - {name: a, metrics: {cpu: [1]}}\n", generator.ScheduleOptions{}, 20 * time.Second},
		{"the option over the config's", "interval: 20s\ndeployments:\n  - {name: a, metrics: {cpu: [1]}}\n",
			generator.ScheduleOptions{Interval: 7 * time.Second}, 7 * time.Second},
		{"a deployment's own, shorter", "interval: 20s\ndeployments:\n  - {name: a, metrics: {cpu: [1]}}\n  - {name: b, interval: 3s, metrics: {cpu: [1]}}\n",
			generator.ScheduleOptions{}, 3 * time.Second},
		{"a deployment's own, longer", "interval: 20s\ndeployments:\n  - {name: a, metrics: {cpu: [1]}}\n  - {name: b, interval: 1m, metrics: {cpu: [1]}}\n",
			generator.ScheduleOptions{}, 20 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSchedule(t, mustParse(t, tc.yaml), tc.opts)
			if got := s.MinInterval(); got != tc.want {
				t.Fatalf("MinInterval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScheduleMinIntervalFollowsApply(t *testing.T) {
	s := newSchedule(t, mustParse(t, "deployments:\n  - {name: a, interval: 5s, metrics: {cpu: [1]}}\n"), generator.ScheduleOptions{})
	if _, err := s.Apply(mustParse(t, "deployments:\n  - {name: a, interval: 2s, metrics: {cpu: [1]}}\n")); err != nil {
		t.Fatal(err)
	}
	if got := s.MinInterval(); got != 2*time.Second {
		t.Fatalf("after Apply: MinInterval = %v, want 2s", got)
	}
}
