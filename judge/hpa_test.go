package judge_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// fakeHPA is an Autoscaler on web's cpu as an External AverageValue of
// 500m: ceil(cpu / 0.5), between 1 and 10. It records which apps it was
// asked about.
type fakeHPA struct {
	mu       sync.Mutex
	asked    map[string]int
	unjudged map[string]string
}

func (f *fakeHPA) Calls(ev generator.Event, _ float64, _ time.Time) (float64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.asked == nil {
		f.asked = map[string]int{}
	}
	f.asked[ev.App]++
	if ev.App != "web" {
		return 0, false
	}
	for _, m := range ev.Metrics {
		if m.Name == "cpu" && m.Value.HasNum {
			return min(max(math.Ceil(m.Value.Num/0.5), 1), 10), true
		}
	}
	return 0, false
}

func (f *fakeHPA) Unjudged() map[string]string { return f.unjudged }

// hpaHooks counts the HPA hooks' calls, as /metrics would.
type hpaHooks struct {
	mu                         sync.Mutex
	opened, applied, supersede int
	reactions                  []time.Duration
}

func (h *hpaHooks) HPAOpened() { h.mu.Lock(); h.opened++; h.mu.Unlock() }
func (h *hpaHooks) HPAApplied(d time.Duration) {
	h.mu.Lock()
	h.applied++
	h.reactions = append(h.reactions, d)
	h.mu.Unlock()
}
func (h *hpaHooks) HPASuperseded() { h.mu.Lock(); h.supersede++; h.mu.Unlock() }

// hpaConfig has web, scaled by an HPA on its cpu (no replicas metric), and
// ops, whose replicas are requested.
func hpaConfig(t testing.TB) (*generator.Config, *generator.Schedule) {
	t.Helper()
	cfg, err := generator.Parse("hpa.yaml", []byte(`deployments:
  - name: web
    state: {replicas: 2}
    metrics:
      cpu: [1]
  - name: ops
    metrics:
      replicas: [3]
      cpu: [1]
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

func cpuOf(app, cpu string) generator.Event {
	v, _ := generator.ParseNumber(cpu)
	return generator.Event{App: app, Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Text: cpu, Num: v, HasNum: true}}}}
}

func replicasOf(at time.Time, r float64) generator.Observation {
	return generator.Observation{Source: "kubernetes", At: at, Replicas: r, HasReplicas: true}
}

// TestHPAReactions: the HPA's reactions, from the tick whose value called
// for a new replica count to its observation, with the fates and rules of
// a request; apart from the requests in the report and the line.
func TestHPAReactions(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cfg, sched := hpaConfig(t)
	hpa := &fakeHPA{unjudged: map[string]string{"db": "HPA db: target type Value: not followed"}}
	hooks := &hpaHooks{}
	clock := newFakeClock(t0)
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: clock, Autoscaler: hpa, HPAHooks: hooks})

	observe := func(s, r float64) {
		t.Helper()
		if err := tr.Observe("web", replicasOf(at(s), r)); err != nil {
			t.Fatal(err)
		}
	}
	tr.Sent(cpuOf("web", "2"), "A1", at(0))  // calls for 4 (from 2): opens
	tr.Sent(cpuOf("web", "2"), "A2", at(5))  // the same 4: the same request
	observe(7.5, 4)                          // applied after 7.5 s
	tr.Sent(cpuOf("web", "4"), "A3", at(10)) // 8: opens
	tr.Sent(cpuOf("web", "1"), "A4", at(12)) // 2: 8 superseded after 2 s, 2 opens
	tr.Sent(cpuOf("web", "2"), "A5", at(14)) // 4, what is observed: 2 superseded
	tr.Sent(cpuOf("web", "5"), "A6", at(20)) // 10: opens, never applied
	observe(21, 6)                           // the HPA does something else: unsolicited
	opsEv := cpuOf("ops", "9")
	opsEv.Metrics = append(opsEv.Metrics, generator.Metric{Name: "replicas", Value: generator.Value{Text: "3", Num: 3, HasNum: true}})
	tr.Sent(opsEv, "B1", at(20)) // ops asks for its replicas itself

	if n := tr.Open(); n != 2 {
		t.Errorf("%d open, want 2 (web's HPA request for 10, ops' replicas 3)", n)
	}
	if oldest, _ := tr.OldestOpen(); !oldest.Equal(at(20)) {
		t.Errorf("oldest open at %s, want %s (the HPA's counts)", oldest, at(20))
	}
	rep := tr.Report(at(40), 5*time.Second)
	h := rep.HPA
	if h == nil {
		t.Fatal("no HPA report with an Autoscaler")
	}
	if h.Requests != 4 || h.Applied != 1 || h.Superseded != 2 || h.Open != 1 || *h.ReactionMax != 7.5 {
		t.Errorf("HPA report %+v, want 4 requests, 1 applied (7.5 s), 2 superseded, 1 open", h)
	}
	// Late against 5 s: applied after 7.5 s, and open for 20 s; the two
	// superseded after 2 s are not.
	if h.Late != 2 || rep.Late != 1 || rep.AllLate() != 3 {
		t.Errorf("HPA late %d, requests late %d, all %d; want 2, 1 (ops), 3", h.Late, rep.Late, rep.AllLate())
	}
	if len(h.Apps) != 1 || h.Apps[0].App != "web" || h.Apps[0].Metric != "replicas" || h.Apps[0].OpenFor != 20 {
		t.Errorf("HPA apps %+v, want web's replicas, open for 20 s", h.Apps)
	}
	if len(h.Unjudged) != 1 || h.Unjudged[0] != (judge.UnjudgedApp{App: "db", Reason: "HPA db: target type Value: not followed"}) {
		t.Errorf("unjudged %+v", h.Unjudged)
	}
	if rep.Requests != 1 || rep.Open != 1 || rep.Unsolicited != 1 {
		t.Errorf("requests %d open %d unsolicited %d, want ops' one request open, and the HPA's 6 unsolicited", rep.Requests, rep.Open, rep.Unsolicited)
	}
	const line = "requests=1 applied=0 superseded=0 open=1 reaction_p50=- reaction_p99=- reaction_max=- oscillations=0" +
		" hpa_requests=4 hpa_applied=1 hpa_superseded=2 hpa_open=1 hpa_reaction_p50=7.500 hpa_reaction_p99=7.500 hpa_reaction_max=7.500 hpa_late=2 hpa_unjudged=1"
	if got := rep.Line(); got != line {
		t.Errorf("line\n got %s\nwant %s", got, line)
	}
	if got := tr.Summary(at(40), 5*time.Second).Line(); got != line { // the live page's read
		t.Errorf("Summary's line\n got %s\nwant %s", got, line)
	}
	if hpa.asked["ops"] != 0 {
		t.Errorf("the autoscaler was asked about ops %d times: its replicas are requested", hpa.asked["ops"])
	}
	// /metrics hears what the report says.
	if hooks.opened != h.Requests || hooks.applied != h.Applied || hooks.supersede != h.Superseded || hooks.reactions[0] != 7500*time.Millisecond {
		t.Errorf("hooks opened %d applied %d superseded %d %v; report %+v", hooks.opened, hooks.applied, hooks.supersede, hooks.reactions, h)
	}
}

// Without an Autoscaler the report and the line are as before.
func TestNoAutoscalerNoHPAReport(t *testing.T) {
	cfg, sched := hpaConfig(t)
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})
	tr.Sent(cpuOf("web", "2"), "A1", time.Now())
	if rep := tr.Report(time.Now(), 0); rep.HPA != nil || rep.Requests != 0 {
		t.Errorf("report %+v, want no HPA report and no request", rep)
	}
}

// The HPA's fates at the boundary of --max-reaction D, as a request's:
// applied is late only after more than D; superseded and open once they
// have waited D.
func TestHPALateBoundary(t *testing.T) {
	const d = 3 * time.Second
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		fate  string
		after time.Duration
		late  int
	}{
		{"applied", d, 0},
		{"applied", d + time.Nanosecond, 1},
		{"superseded", d - time.Nanosecond, 0},
		{"superseded", d, 1},
		{"open", d - time.Nanosecond, 0},
		{"open", d, 1},
	} {
		t.Run(tt.fate+"/"+(tt.after-d).String(), func(t *testing.T) {
			cfg, sched := hpaConfig(t)
			tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: newFakeClock(t0), Autoscaler: &fakeHPA{}})
			tr.Sent(cpuOf("web", "2"), "A1", t0) // 2 -> 4
			end := t0.Add(tt.after)
			switch tt.fate {
			case "applied":
				if err := tr.Observe("web", replicasOf(end, 4)); err != nil {
					t.Fatal(err)
				}
			case "superseded":
				tr.Sent(cpuOf("web", "3"), "A2", end) // 6
			}
			if rep := tr.Report(end, d); rep.HPA.Late != tt.late || rep.AllLate() != tt.late {
				t.Errorf("HPA late %d (all %d), want %d: %+v", rep.HPA.Late, rep.AllLate(), tt.late, rep.HPA.Apps)
			}
		})
	}
}

// A natural end waits for the HPA's open request as for any other.
func TestEndWaitsForTheHPA(t *testing.T) {
	const d = 30 * time.Second
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cfg, sched := hpaConfig(t)
	clock := newFakeClock(t0)
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: clock, Autoscaler: &fakeHPA{}})
	tr.Sent(cpuOf("web", "2"), "A1", t0)
	ended := make(chan judge.Report, 1)
	go func() { ended <- tr.End(context.Background(), d, true) }()
	waitForWaiter(t, clock)
	clock.Advance(15 * time.Second) // the HPA's sync period, say
	if err := tr.Observe("web", replicasOf(time.Time{}, 4)); err != nil {
		t.Fatal(err)
	}
	select {
	case rep := <-ended:
		if rep.HPA.Applied != 1 || rep.HPA.Late != 0 || *rep.HPA.ReactionMax != 15 {
			t.Errorf("HPA report %+v, want applied after 15 s, in time", rep.HPA)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("End did not return after the HPA's reaction")
	}
}

// The HPA's calls are the requested replicas of oscillations: an HPA that
// scales up and back down as its rules call for does not oscillate; a turn
// its rules did not call for does.
func TestHPAOscillations(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, tt := range []struct {
		name    string
		autosc  bool
		downCPU string // the value before the way back to 2
		want    int
	}{
		{"judged, the way back called for", true, "1", 0},
		{"judged, the way back not called for", true, "2", 1},
		{"not judged: every turn in the window", false, "1", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sched := hpaConfig(t)
			tc := judge.TrackerConfig{Config: cfg, Clock: newFakeClock(t0)}
			if tt.autosc {
				tc.Autoscaler = &fakeHPA{}
			}
			tr := newTracker(t, sched, tc)
			tr.Sent(cpuOf("web", "2"), "A1", at(0)) // 4
			if err := tr.Observe("web", replicasOf(at(15), 4)); err != nil {
				t.Fatal(err)
			}
			tr.Sent(cpuOf("web", tt.downCPU), "A2", at(30)) // 2, or 4 again
			if err := tr.Observe("web", replicasOf(at(45), 2)); err != nil {
				t.Fatal(err)
			}
			if got := tr.Report(at(60), 0).Oscillations; got != tt.want {
				t.Errorf("oscillations %d, want %d", got, tt.want)
			}
		})
	}
}
