package judge_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// BenchmarkSummary is the live page's read of the judge each second
// against the exit report's, at 10,000 deployments with one applied
// request each.
func BenchmarkSummary(b *testing.B) {
	cfg, err := generator.Parse("b.yaml", []byte("deployments:\n  - name: web\n    count: 10000\n    metrics:\n      replicas: [3]\n      cpu: [1]\n"))
	if err != nil {
		b.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := judge.NewTracker(sched, judge.TrackerConfig{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := range 10000 {
		app := fmt.Sprintf("web-%d", i)
		tr.Sent(generator.Event{App: app, Metrics: []generator.Metric{{Name: "replicas", Value: generator.Value{Num: 3, HasNum: true}}}}, "", t0)
		if err := tr.Observe(app, generator.Observation{Source: "bus", At: t0.Add(time.Second), Replicas: 3, HasReplicas: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Summary", func(b *testing.B) {
		for range b.N {
			_ = tr.Summary(t0, time.Minute)
		}
	})
	b.Run("Report", func(b *testing.B) {
		for range b.N {
			_ = tr.Report(t0, time.Minute)
		}
	})
}
