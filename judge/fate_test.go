package judge_test

import (
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/judge"
)

// fateLog records what a Tracker tells its Fates.
type fateLog struct {
	mu    sync.Mutex
	fates []judge.Fate
}

func (l *fateLog) Fate(f judge.Fate) {
	l.mu.Lock()
	l.fates = append(l.fates, f)
	l.mu.Unlock()
}

// The live page marks each request's fate on its deployment's chart: it
// is told of every request twice, open then its end, with the deployment
// and the request's time naming it both times.
func TestTrackerTellsFates(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cfg, sched := trackedConfig(t, "")
	log := &fateLog{}
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Fates: log})

	tr.Sent(ev("4", "750m"), "A1", at(0))
	if err := tr.Observe("web", obs(at(1.5), 4, 0, "A1")); err != nil {
		t.Fatal(err)
	}
	tr.Sent(ev("4", "1"), "A2", at(10)) // cpu 0.75 superseded by 1

	want := []judge.Fate{
		{App: "web", Metric: "cpu", Value: 0.75, Opened: at(0), Kind: judge.FateOpen},
		{App: "web", Metric: "replicas", Value: 4, Opened: at(0), Kind: judge.FateOpen},
		{App: "web", Metric: "replicas", Value: 4, Opened: at(0), Kind: judge.FateApplied, Ended: at(1.5), Reaction: 1500 * time.Millisecond},
		{App: "web", Metric: "cpu", Value: 0.75, Opened: at(0), Kind: judge.FateSuperseded, Ended: at(10)},
		{App: "web", Metric: "cpu", Value: 1, Opened: at(10), Kind: judge.FateOpen},
	}
	if sum, rep := tr.Summary(at(10), 0), tr.Report(at(10), 0); sum.Line() != rep.Line() || sum.Unsolicited != rep.Unsolicited {
		t.Errorf("Summary %s, want Report's %s", sum.Line(), rep.Line())
	}
	if open := tr.OpenOf("web"); len(open) != 1 || open[0] != want[4] {
		t.Errorf("OpenOf(web) = %+v, want the cpu request for 1", open)
	}
	if open := tr.OpenOf("nope"); len(open) != 0 {
		t.Errorf("OpenOf(nope) = %+v, want none", open)
	}
	if len(log.fates) != len(want) {
		t.Fatalf("fates:\n%+v\nwant\n%+v", log.fates, want)
	}
	for i := range want {
		if g, w := log.fates[i], want[i]; g.App != w.App || g.Metric != w.Metric || g.Value != w.Value || !g.Opened.Equal(w.Opened) ||
			g.Kind != w.Kind || !g.Ended.Equal(w.Ended) || g.Reaction != w.Reaction {
			t.Errorf("fate %d: %+v, want %+v", i, g, w)
		}
	}
}
