package standin_test

import (
	"sync"
	"testing"

	"github.com/labsea/metricsender/policy"
	"github.com/labsea/metricsender/standin"
)

// The operator's page lists what became of each request: Decided is told
// of every request read, and its outcomes add up to the run's account.
func TestOperatorTellsDecisions(t *testing.T) {
	b, c := newBus(), &counter{}
	var (
		mu        sync.Mutex
		decisions []standin.Decision
	)
	stop := run(t, b, standin.Config{Policy: policy.Follow{}, Miss: 0.3, Seed: 7, Counter: c, Decided: func(d standin.Decision) {
		mu.Lock()
		decisions = append(decisions, d)
		mu.Unlock()
	}})
	for i := range 10 {
		b.in <- request("web", uint64(i+1), "replicas", "3")
	}
	b.in <- request("web", 99, "tier", "gold") // nothing numeric: nothing to apply
	c.wait(t, 11)
	n := stop()

	mu.Lock()
	defer mu.Unlock()
	got := map[string]int{}
	for _, d := range decisions {
		got[d.Outcome]++
		if d.App != "web" || d.At.IsZero() {
			t.Errorf("decision %+v: want app web and the time it was read", d)
		}
		if d.Outcome == standin.OutcomeAnswer && (!d.HasReplicas || d.Replicas != 3 || d.Due.IsZero()) {
			t.Errorf("answer %+v: want replicas 3 and a due time", d)
		}
	}
	if len(decisions) != n.Requests || got[standin.OutcomeAnswer] != n.Answered || got[standin.OutcomeMissed] != n.Missed {
		t.Errorf("decisions %v (%d), counts %+v: want one per request, answers and misses as counted", got, len(decisions), n)
	}
	if last := decisions[len(decisions)-1]; last.Outcome != standin.OutcomeNone && last.Outcome != standin.OutcomeMissed {
		t.Errorf("the request with nothing numeric: %q, want none (or missed)", last.Outcome)
	}
}
