package generator_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// benchConfig is n deployments with three list metrics each, like a big
// cluster in the original config format.
func benchConfig(n int, spread bool) *generator.Config {
	cpu := choice("100m", "200m", "500m", "1")
	mem := choice("128Mi", "256Mi", "512Mi")
	gpu := choice("0", "1")
	cfg := &generator.Config{Interval: 10 * time.Second, Spread: spread, Deployments: make([]generator.Deployment, n)}
	for i := range cfg.Deployments {
		cfg.Deployments[i] = generator.Deployment{Name: fmt.Sprintf("app-%d", i), Metrics: []generator.MetricSpec{
			{Name: "cpu", Model: cpu}, {Name: "gpu", Model: gpu}, {Name: "memory", Model: mem},
		}}
	}
	return cfg
}

// BenchmarkScheduleNext measures taking batches with Next. Without spread one
// op is one tick of every deployment; with spread one op is one deployment's
// tick (each has its own phase). ns/event and allocs are what the hot path
// costs per message.
func BenchmarkScheduleNext(b *testing.B) {
	for _, spread := range []bool{false, true} {
		for _, n := range []int{20_000, 100_000} {
			b.Run(fmt.Sprintf("deployments=%d/spread=%v", n, spread), func(b *testing.B) {
				s, err := generator.NewSchedule(benchConfig(n, spread), generator.ScheduleOptions{Start: t0, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				for range 2 { // warm-up: grow the reused buffers
					s.Next()
				}
				b.ReportAllocs()
				events := 0
				b.ResetTimer()
				for b.Loop() {
					bt, _ := s.Next()
					events += len(bt.Events)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
				b.ReportMetric(float64(events)/float64(b.N), "events/op")
			})
		}
	}
}

// BenchmarkNewSchedule measures building the live state: B/op is the
// scheduler's memory for that many deployments (three metrics each).
func BenchmarkNewSchedule(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("deployments=%d", n), func(b *testing.B) {
			cfg := benchConfig(n, false)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: t0, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
