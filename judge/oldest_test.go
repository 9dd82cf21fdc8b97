package judge_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/judge"
)

func TestTrackerOldestOpen(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cfg, sched := trackedConfig(t, "")
	tr := newTracker(t, sched, judge.TrackerConfig{Config: cfg})

	if _, ok := tr.OldestOpen(); ok {
		t.Fatal("OldestOpen reports a request before any was sent")
	}
	tr.Sent(ev("4", "500m"), "A1", at(0))  // replicas 2 -> 4 opens; cpu equals the observed 0.5
	tr.Sent(ev("4", "750m"), "A2", at(10)) // cpu 0.5 -> 0.75 opens at 10; replicas stays the one of 0
	if got, ok := tr.OldestOpen(); !ok || !got.Equal(at(0)) {
		t.Fatalf("OldestOpen = %v, %v; want %v (the replicas request)", got, ok, at(0))
	}
	if err := tr.Observe("web", obs(at(12), 4, 0, "")); err != nil { // replicas applied
		t.Fatal(err)
	}
	if got, ok := tr.OldestOpen(); !ok || !got.Equal(at(10)) {
		t.Fatalf("after replicas applied: OldestOpen = %v, %v; want %v (the cpu request)", got, ok, at(10))
	}
	if err := tr.Observe("web", obs(at(15), 0, 0.75, "")); err != nil {
		t.Fatal(err)
	}
	if got, ok := tr.OldestOpen(); ok {
		t.Fatalf("OldestOpen = %v after every request was applied", got)
	}
}
