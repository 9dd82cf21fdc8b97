package live_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
	"github.com/labsea/metricsender/live"
)

// replicas is a message of app asking for n replicas.
func replicas(app string, n float64) generator.Event {
	return generator.Event{App: app, Metrics: []generator.Metric{{Name: "replicas", Value: generator.Value{Text: "x", Num: n, HasNum: true}}}}
}

// The judge panel shows send's exit summary line: the last judge event
// before end carries the numbers and the line of the report the run ends
// with, and the followed deployment's requests carry their fates.
func TestJudgeEventsEqualTheSummaryLine(t *testing.T) {
	cfg, sched := testConfig(t)
	h, srv := newHub(t, live.Config{})
	tr, err := judge.NewTracker(sched, judge.TrackerConfig{Config: cfg, Fates: h})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(live.Run{Start: time.Now(), Schedule: sched, Judge: tr})
	c := openStream(t, srv.URL, "select=web-0")
	if hello := c.Next(t, live.TypeHello); hello.Doc["judged"] != true {
		t.Errorf("hello: %s, want judged", hello.Raw)
	}
	c.Next(t, live.TypePoints) // following from here on

	t0 := time.Now()
	tr.Sent(replicas("web-0", 3), "1", t0)
	tr.Sent(replicas("web-1", 4), "2", t0)
	if err := tr.Observe("web-0", generator.Observation{Source: "bus", At: t0.Add(1500 * time.Millisecond), Replicas: 3, HasReplicas: true}); err != nil {
		t.Fatal(err)
	}
	tr.Sent(replicas("web-1", 1), "3", t0.Add(2*time.Second)) // supersedes 4
	tr.Sent(replicas("web-0", 1), "4", t0.Add(2*time.Second)) // stays open

	rep := tr.End(context.Background(), 0, false) // as send ends: the line, then the page
	h.Ended(rep)
	h.Close()
	var last event
	for ev := range c.Events {
		if ev.Type == live.TypeJudge {
			last = ev
		}
	}
	if last.Doc["line"] != rep.Line() {
		t.Errorf("the last judge event's line:\n%v\nthe summary line:\n%s", last.Doc["line"], rep.Line())
	}
	for field, want := range map[string]any{"requests": rep.Requests, "applied": rep.Applied, "superseded": rep.Superseded, "open": rep.Open,
		"oscillations": rep.Oscillations, "reaction_p50_seconds": *rep.ReactionP50, "reaction_max_seconds": *rep.ReactionMax} {
		if got, ok := last.Doc[field].(float64); !ok || got != toFloat(want) {
			t.Errorf("judge %s: %v, want %v (as the summary line)", field, last.Doc[field], want)
		}
	}
	if rep.Requests != 4 || rep.Applied != 1 || rep.Superseded != 1 || rep.Open != 2 {
		t.Errorf("report %s: want 4 requests, 1 applied, 1 superseded, 2 open", rep.Line())
	}
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	return -1
}

// A followed deployment's points carry its requests' fates: open, then
// applied with the reaction time.
func TestPointsCarryFates(t *testing.T) {
	cfg, sched := testConfig(t)
	h, srv := newHub(t, live.Config{})
	tr, err := judge.NewTracker(sched, judge.TrackerConfig{Config: cfg, Fates: h})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(live.Run{Start: time.Now(), Schedule: sched, Judge: tr})
	c := openStream(t, srv.URL, "select=web-0")
	c.Next(t, live.TypePoints)

	t0 := time.UnixMilli(1_000_000)
	tr.Sent(replicas("web-0", 3), "1", t0)
	tr.Sent(replicas("web-1", 3), "2", t0) // not followed
	if err := tr.Observe("web-0", generator.Observation{Source: "bus", At: t0.Add(1500 * time.Millisecond), Replicas: 3, HasReplicas: true}); err != nil {
		t.Fatal(err)
	}
	var fates []any
	for len(fates) < 2 {
		p := c.Until(t, live.TypePoints, func(e event) bool { return len(e.Doc["fates"].([]any)) > 0 })
		fates = append(fates, p.Doc["fates"].([]any)...)
	}
	open, applied := fates[0].(map[string]any), fates[1].(map[string]any)
	if open["fate"] != "open" || open["opened_ms"] != 1_000_000.0 || open["ended_ms"] != nil || open["value"] != 3.0 {
		t.Errorf("first fate %v, want replicas 3 open at 1000000", open)
	}
	if applied["fate"] != "applied" || applied["opened_ms"] != 1_000_000.0 || applied["ended_ms"] != 1_001_500.0 || applied["reaction_seconds"] != 1.5 {
		t.Errorf("second fate %v, want applied after 1.5 s", applied)
	}
	if len(fates) != 2 {
		t.Errorf("fates %v: web-1's are not followed", fates)
	}
}

// A page that starts following a deployment mid-run sees the requests
// already open.
func TestFollowShowsRequestsAlreadyOpen(t *testing.T) {
	cfg, sched := testConfig(t)
	h, srv := newHub(t, live.Config{})
	tr, err := judge.NewTracker(sched, judge.TrackerConfig{Config: cfg, Fates: h})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(live.Run{Start: time.Now(), Schedule: sched, Judge: tr})
	tr.Sent(replicas("web-2", 5), "1", time.UnixMilli(2_000_000)) // nobody follows web-2 yet

	c := openStream(t, srv.URL, "select=web-2")
	p := c.Next(t, live.TypePoints)
	want := []any{map[string]any{"metric": "replicas", "value": 5.0, "opened_ms": 2_000_000.0, "fate": "open", "ended_ms": nil, "reaction_seconds": nil}}
	if !reflect.DeepEqual(p.Doc["fates"], want) {
		t.Errorf("first points' fates: %v, want %v", p.Doc["fates"], want)
	}
}
