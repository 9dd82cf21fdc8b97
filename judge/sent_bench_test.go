package judge_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// noHPA is an Autoscaler that scales nothing: the cost of asking.
type noHPA struct{}

func (noHPA) Calls(generator.Event, float64, time.Time) (float64, bool) { return 0, false }
func (noHPA) Unjudged() map[string]string                               { return nil }

// BenchmarkSent is one message of a deployment whose replicas nobody
// requests, without an Autoscaler, with one that scales nothing, and with
// one that judges it (the call the same as observed, so nothing opens).
func BenchmarkSent(b *testing.B) {
	for _, bc := range []struct {
		name string
		a    judge.Autoscaler
	}{{"no autoscaler", nil}, {"autoscaler, not this app", noHPA{}}, {"autoscaler judging", &fakeHPA{}}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, sched := hpaConfig(b)
			tr, err := judge.NewTracker(sched, judge.TrackerConfig{Config: cfg, Autoscaler: bc.a})
			if err != nil {
				b.Fatal(err)
			}
			ev := cpuOf("web", "1") // calls for 2, what is observed
			at := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				tr.Sent(ev, "A1", at)
			}
		})
	}
}
