package judge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// trackedConfig has web (replicas from 2, cpu allocation 500m) with a
// replicas and a cpu metric.
func trackedConfig(t *testing.T, extra string) (*generator.Config, *generator.Schedule) {
	t.Helper()
	cfg, err := generator.Parse("loop.yaml", []byte(`deployments:
  - name: web
    state: {replicas: 2, allocation: {cpu: 500m}}
`+extra+`    metrics:
      replicas: [1]
      cpu: [1]
      tier: [gold]
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, s
}

// newTracker wraps sched, failing the test when the config is refused.
func newTracker(t *testing.T, sched judge.Schedule, cfg judge.TrackerConfig) *judge.Tracker {
	t.Helper()
	tr, err := judge.NewTracker(sched, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func ev(replicas, cpu string) generator.Event {
	num := func(text string) generator.Value {
		v, _ := generator.ParseNumber(text)
		return generator.Value{Text: text, Num: v, HasNum: true}
	}
	return generator.Event{App: "web", Metrics: []generator.Metric{
		{Name: "cpu", Value: num(cpu)}, {Name: "replicas", Value: num(replicas)}, {Name: "tier", Value: generator.Value{Text: "gold"}}}}
}

func obs(at time.Time, replicas float64, cpu float64, id string) generator.Observation {
	ob := generator.Observation{Source: "bus", At: at, CorrelationID: id}
	if replicas > 0 {
		ob.Replicas, ob.HasReplicas = replicas, true
	}
	if cpu > 0 {
		ob.Allocation = map[string]float64{"cpu": cpu}
	}
	return ob
}

func TestTrackerFates(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cfg, sched := trackedConfig(t, "")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})

	tr.Sent(ev("4", "750m"), "A1", at(0)) // replicas 2 -> 4, cpu 0.5 -> 0.75: two requests
	if n := tr.Open(); n != 2 {
		t.Fatalf("%d open, want 2 (replicas and cpu; tier is not numeric)", n)
	}
	tr.Sent(ev("4", "750m"), "A2", at(10)) // the same values: still the same requests
	if err := tr.Observe("web", obs(at(1.5), 4, 0, "A1")); err != nil {
		t.Fatal(err)
	}
	tr.Sent(ev("4", "1"), "A3", at(20)) // cpu asks for 1 now: 0.75 superseded
	if err := tr.Observe("web", obs(at(23), 0, 1, "")); err != nil {
		t.Fatal(err)
	}
	tr.Sent(ev("3", "1"), "A4", at(30))                              // replicas 4 -> 3: opens
	tr.Sent(ev("4", "1"), "A5", at(40))                              // back to 4 = observed: superseded
	if err := tr.Observe("web", obs(at(50), 0, 2, "")); err != nil { // nobody asked for cpu 2
		t.Fatal(err)
	}
	tr.Sent(ev("6", "1"), "A6", at(60)) // replicas left open; cpu 1 differs from the 2 just observed: opens again

	rep := tr.Report(at(65), 3*time.Second)
	want := "requests=6 applied=2 superseded=2 open=2 reaction_p50=1.500 reaction_p99=3.000 reaction_max=3.000 oscillations=0"
	if got := rep.Line(); got != want {
		t.Errorf("line\n got %s\nwant %s", got, want)
	}
	if rep.Unsolicited != 1 {
		t.Errorf("unsolicited %d, want 1", rep.Unsolicited)
	}
	// Late with 3 s: cpu 1 applied after exactly 3 s is not late; cpu 0.75
	// superseded after 20 s is; replicas 3 superseded after 10 s is; the
	// two open ones are 5 s old: late.
	if rep.Late != 4 {
		t.Errorf("late %d, want 4: %+v", rep.Late, rep.Metrics)
	}
}

func TestTrackerTargetsAndTolerance(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	cfg, sched := trackedConfig(t, "    tolerance: 10%\n    targets: {replicas: none}\n")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})
	tr.Sent(ev("9", "540m"), "", t0) // replicas left out; cpu 0.54 is within 10% of 0.5: nothing to ask
	if n := tr.Open(); n != 0 {
		t.Fatalf("%d open, want 0", n)
	}
	tr.Sent(ev("9", "600m"), "", t0)
	if err := tr.Observe("web", obs(t0.Add(time.Second), 0, 0.57, "")); err != nil { // within 10% of 0.6
		t.Fatal(err)
	}
	if rep := tr.Report(t0, 0); rep.Applied != 1 || rep.Requests != 1 {
		t.Errorf("%s, want one request applied", rep.Line())
	}
}

func TestTrackerOscillations(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	cfg, sched := trackedConfig(t, "")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, OscillationWindow: time.Minute})
	for i, r := range []float64{2, 4, 2, 4, 4, 5} { // up, down (30 s after: 1), up (2), same, up
		if err := tr.Observe("web", obs(t0.Add(time.Duration(i)*30*time.Second), r, 0, "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Observe("web", obs(t0.Add(10*time.Minute), 1, 0, "")); err != nil { // down, but long after
		t.Fatal(err)
	}
	if got := tr.Report(t0, 0).Oscillations; got != 2 {
		t.Errorf("oscillations %d, want 2", got)
	}
}

func TestTrackerWaitSettled(t *testing.T) {
	cfg, sched := trackedConfig(t, "")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})
	tr.Sent(ev("4", "500m"), "", time.Now())
	done := make(chan struct{})
	go func() { tr.WaitSettled(context.Background(), time.Hour); close(done) }()
	if err := tr.Observe("web", obs(time.Now(), 4, 0, "")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WaitSettled did not return once the last request closed")
	}
	tr.Sent(ev("5", "500m"), "", time.Now())
	start := time.Now()
	tr.WaitSettled(context.Background(), 50*time.Millisecond) // nobody answers: gives up after the wait
	if tr.Open() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("open %d after WaitSettled", tr.Open())
	}
}

func TestTrackerUnknownApp(t *testing.T) {
	cfg, sched := trackedConfig(t, "")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})
	if err := tr.Observe("nope", obs(time.Now(), 1, 0, "")); err == nil || !strings.Contains(err.Error(), "unknown deployment") {
		t.Errorf("Observe(nope) = %v, want the schedule's unknown deployment", err)
	}
}

func TestBadTargetsAndTolerance(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"tolerance: lots\n", "tolerance: want a percentage >= 0 (5%) or a quantity (50m), got \"lots\""},
		{"deployments:\n  - name: a\n    metrics: {cpu: [1]}\n    targets: {cpu: requests}\n", "deployments[0].targets.cpu: want replicas, allocation.<metric> or none, got \"requests\""},
		{"deployments:\n  - name: a\n    metrics: {cpu: [1]}\n    targets: {gpu: none}\n", "deployments[0].targets.gpu: not a metric of this deployment"},
		{"deployments:\n  - name: a\n    metrics: {cpu: [1]}\n    tolerance: -5%\n", "deployments[0].tolerance: want a percentage >= 0"},
	} {
		yaml := tt.yaml
		if !strings.Contains(yaml, "deployments") {
			yaml += "deployments:\n  - name: a\n    metrics: {cpu: [1]}\n"
		}
		_, err := generator.Parse("c.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", yaml, err, tt.want)
		}
	}
}
