package judge_test

import (
	"context"
	"testing"
	"time"

	"github.com/labsea/metricsender/judge"
)

// Each fate at the boundary of --max-reaction D, on a fake clock: applied
// is late only after more than D; superseded and still open are late once
// they have waited D.
func TestLateBoundary(t *testing.T) {
	const d = 3 * time.Second
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		fate  string
		after time.Duration
		late  int
	}{
		{"applied", d - time.Nanosecond, 0},
		{"applied", d, 0},
		{"applied", d + time.Nanosecond, 1},
		{"superseded", d - time.Nanosecond, 0},
		{"superseded", d, 1},
		{"superseded", d + time.Nanosecond, 1},
		{"open", d - time.Nanosecond, 0},
		{"open", d, 1},
		{"open", d + time.Nanosecond, 1},
	} {
		t.Run(tt.fate+"/"+(tt.after-d).String(), func(t *testing.T) {
			cfg, sched := trackedConfig(t, "")
			clock := newFakeClock(t0)
			tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: clock})
			tr.Sent(ev("4", "500m"), "A1", t0) // replicas 2 -> 4 opens; cpu is what is observed
			end := t0.Add(tt.after)
			switch tt.fate {
			case "applied":
				if err := tr.Observe("web", obs(end, 4, 0, "A1")); err != nil {
					t.Fatal(err)
				}
			case "superseded":
				tr.Sent(ev("5", "500m"), "A2", end)
				if err := tr.Observe("web", obs(end, 5, 0, "A2")); err != nil { // the new one, at once
					t.Fatal(err)
				}
			}
			rep := tr.Report(end, d)
			if rep.Late != tt.late {
				t.Errorf("late %d, want %d: %+v", rep.Late, tt.late, rep.Metrics)
			}
			if sum := tr.Summary(end, d); sum.Late != rep.Late || sum.Line() != rep.Line() {
				t.Errorf("Summary late %d %s, want Report's %d %s", sum.Late, sum.Line(), rep.Late, rep.Line())
			}
		})
	}
}

// The natural end's wait does not race with the verdict: a request still
// open when the wait for it ran out is late, even when the clock reads the
// very instant the wait ran out (where rounding to milliseconds, or a
// timer that fired a hair early, once passed it); a request applied
// during the wait is not.
func TestEndWaitsThenJudges(t *testing.T) {
	const d = 3 * time.Second
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		answer bool // the operator applies the request 1 s into the wait
		late   int
		open   int
	}{
		{"never answered", false, 1, 1},
		{"answered in time", true, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sched := trackedConfig(t, "")
			clock := newFakeClock(t0)
			tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: clock})
			tr.Sent(ev("4", "500m"), "A1", t0)
			ended := make(chan judge.Report, 1)
			go func() { ended <- tr.End(context.Background(), d, true) }()
			waitForWaiter(t, clock)
			clock.Advance(time.Second)
			if tt.answer {
				if err := tr.Observe("web", obs(time.Time{}, 4, 0, "A1")); err != nil { // at the clock's time
					t.Fatal(err)
				}
			} else {
				clock.Advance(d - time.Second) // exactly D after the request
			}
			var rep judge.Report
			select {
			case rep = <-ended:
			case <-time.After(10 * time.Second):
				t.Fatal("End did not return")
			}
			if rep.Late != tt.late || rep.Open != tt.open {
				t.Errorf("late %d open %d, want %d and %d: %+v", rep.Late, rep.Open, tt.late, tt.open, rep.Metrics)
			}
		})
	}
}

// A signal skips the wait but still judges: an open request younger than
// D is reported, not late.
func TestEndSignalledJudgesNow(t *testing.T) {
	const d = 3 * time.Second
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	cfg, sched := trackedConfig(t, "")
	clock := newFakeClock(t0)
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg, Clock: clock})
	tr.Sent(ev("4", "500m"), "A1", t0)
	clock.Advance(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := tr.End(ctx, d, true)
	if rep.Late != 0 || rep.Open != 1 || rep.Metrics[0].OpenFor != 1 {
		t.Errorf("late %d open %d: want 0 late, 1 open for 1 s: %+v", rep.Late, rep.Open, rep.Metrics)
	}
	rep = tr.End(ctx, d, false) // not a natural end: no wait either
	if rep.Late != 0 {
		t.Errorf("late %d, want 0", rep.Late)
	}
}

// waitForWaiter returns once something waits on clock.
func waitForWaiter(t *testing.T, clock *fakeClock) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		n, next := clock.Waiters()
		if n > 0 {
			return
		}
		select {
		case <-next:
		case <-deadline:
			t.Fatal("nothing waits on the clock")
		}
	}
}
