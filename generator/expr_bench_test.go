package generator_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// BenchmarkExpr measures one evaluation of an expr model as the Schedule
// makes it (NextState with an unchanged state): ns/op and allocs/op are
// per evaluation, vars' draws and formatting included.
func BenchmarkExpr(b *testing.B) {
	cases := []struct{ name, model string }{
		{"constant", `{"expr": "2.0 / replicas"}`},
		{"sine var", `{"expr": "load / replicas", "vars": {"load": {"sine": {"min": "1", "max": "6", "period": "30m"}}}, "min": "50m", "max": "4"}`},
		{"allocation and ternary", `{"expr": "replicas > 2.0 ? allocation.cpu * load : load + elapsed / 60.0", "vars": {"load": {"uniform": {"min": "0", "max": "2"}}}}`},
		{"quantity output", `{"expr": "load / replicas", "vars": {"load": {"walk": {"start": "1", "min": "100m", "max": "4", "step": "100m"}}}}`},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m, _, err := generator.ParseModel([]byte(c.model), "")
			if err != nil {
				b.Fatal(err)
			}
			sm := m.(generator.StateModel)
			sm.Bind(1, "web", "cpu")
			st := generator.State{Replicas: 2, Ready: 2, Allocation: map[string]float64{"cpu": 0.5}}
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			var tick int64
			for b.Loop() {
				if _, err := sm.NextState(r, generator.Input{At: time.Duration(tick) * 10 * time.Second, Tick: tick, State: &st, Version: 1}); err != nil {
					b.Fatal(err)
				}
				tick++
			}
		})
	}
}

// BenchmarkScheduleNextExpr is one tick of 100,000 deployments whose cpu
// is an expression (ns/op per tick; divide by 100,000 for an event).
func BenchmarkScheduleNextExpr(b *testing.B) {
	cfg, err := generator.Parse("b.yaml", []byte("interval: 10s\ndeployments:\n  - name: web\n    count: 100000\n    state: {replicas: 2}\n    metrics:\n"+
		"      cpu: {expr: \"load / replicas\", vars: {load: {sine: {min: 1, max: 6, period: 30m}}}}\n      memory: [128Mi, 256Mi]\n"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Unix(0, 0), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s.Next()
	b.ReportAllocs()
	for b.Loop() {
		s.Next()
	}
}
