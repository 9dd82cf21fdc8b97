package telemetry

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
)

func TestSendMetricsObservedState(t *testing.T) {
	cfg, err := generator.Parse("s.yaml", []byte("deployments:\n  - name: web\n    state: {replicas: 2, allocation: {cpu: 500m}}\n    metrics:\n      m: [1]\n"+
		"  - name: db\n    metrics:\n      m: [1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	for _, perApp := range []bool{true, false} {
		reg := NewRegistry()
		m := NewSend(reg, perApp)
		base := startServer(t, reg)
		if fams, _ := promtest.Scrape(t, base); fams["metricsender_observed_replicas"] != nil {
			t.Errorf("perApp %v: observed_replicas before the schedule exists", perApp)
		}
		m.WatchState(sched.ObservedStates)
		m.ExprError()
		m.ExprError()
		if err := sched.Observe("db", generator.Observation{Source: "api", Replicas: 3, HasReplicas: true,
			Allocation: map[string]float64{"memory": 1024}}); err != nil {
			t.Fatal(err)
		}
		fams, _ := promtest.Scrape(t, base)
		tests := []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"metricsender_observed_replicas", map[string]string{"app": "web"}, 2},
			{"metricsender_observed_replicas", map[string]string{"app": "db"}, 3},
			{"metricsender_observed_allocation", map[string]string{"app": "web", "metric": "cpu"}, 0.5},
			{"metricsender_observed_allocation", map[string]string{"app": "db", "metric": "memory"}, 1024},
		}
		for _, tc := range tests {
			got, ok := promtest.Sample(fams, tc.name, tc.labels)
			switch {
			case perApp && (!ok || got != tc.want):
				t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
			case !perApp && ok:
				t.Errorf("%s%v exported with per-deployment series off", tc.name, tc.labels)
			}
		}
		if got, ok := promtest.Sample(fams, "metricsender_expr_errors_total", map[string]string{}); !ok || got != 2 {
			t.Errorf("perApp %v: expr_errors_total = %v (present %v), want 2", perApp, got, ok)
		}
	}
}
