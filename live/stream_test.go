package live_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/live"
)

// A page that connects before the run starts waits in hello, follows
// what it asked for from the first tick on, and then gets every document
// of docs/events.md, each versioned.
func TestStreamDocuments(t *testing.T) {
	cfg, sched := testConfig(t)
	inj := generator.NewInjector(cfg, 1, 0)
	h, srv := newHub(t, live.Config{
		Info:     live.Info{Run: "r1", Seed: 1 << 62, Interval: 2 * time.Second, Deployments: 3, Control: true},
		Readings: readings{live.Totals{Published: 7, Dropped: 1}},
	})
	c := openStream(t, srv.URL, "select=web-0&select=nope&select=web-0")

	early := c.Next(t, live.TypeHello)
	if early.Doc["started"] != false || early.Doc["seed"] != fmt.Sprint(int64(1)<<62) || early.Doc["control"] != true {
		t.Errorf("hello before the start: %s; want started false, the seed as a string, control true", early.Raw)
	}
	h.Sent([]generator.Event{sent("web-0", 1, "cpu", "500m", "replicas", "2"), sent("web-1", 1, "cpu", "500m")}, time.UnixMilli(1000))
	h.Start(live.Run{Start: time.Now(), Schedule: sched, Injector: inj})

	hello := c.Next(t, live.TypeHello)
	if hello.Doc["started"] != true || !reflect.DeepEqual(hello.Doc["selected"], []any{"web-0"}) || hello.Doc["judged"] != false {
		t.Errorf("hello: %s; want started, web-0 selected, not judged", hello.Raw)
	}
	wantRefused := []any{map[string]any{"name": "nope", "reason": "unknown deployment"}, map[string]any{"name": "web-0", "reason": "repeated"}}
	if !reflect.DeepEqual(hello.Doc["refused"], wantRefused) {
		t.Errorf("refused: %v, want %v", hello.Doc["refused"], wantRefused)
	}
	if run := c.Next(t, live.TypeRun); run.Doc["published"] != 7.0 || run.Doc["dropped"] != 1.0 || run.Doc["broker_connected"] != true {
		t.Errorf("run: %s; want the readings' totals and connection", run.Raw)
	}
	if j := c.Next(t, live.TypeJudge); j.Doc["judged"] != false {
		t.Errorf("judge without a judge: %s", j.Raw)
	}
	if f := c.Next(t, live.TypeFaults); len(f.Doc["counts"].(map[string]any)) != len(generator.FaultKinds) {
		t.Errorf("faults: %s; want a count of every kind", f.Raw)
	}
	if d := c.Next(t, live.TypeDeployment); d.Doc["name"] != "web-0" || len(d.Doc["metrics"].([]any)) != 2 {
		t.Errorf("deployment: %s; want web-0 with its two metrics", d.Raw)
	}
	p := c.Next(t, live.TypePoints)
	want := []any{map[string]any{"seq": 1.0, "t_ms": 1000.0, "values": map[string]any{"cpu": "500m", "replicas": "2"}, "fault": ""}}
	if p.Doc["name"] != "web-0" || p.Doc["reset"] != true || !reflect.DeepEqual(p.Doc["points"], want) {
		t.Errorf("first points: %s; want web-0's message sent before the start, reset", p.Raw)
	}

	// A suppressed message is a point without values; a copy is none.
	dropped := sent("web-0", 2)
	dropped.Fault, dropped.Suppressed = "drop", true
	h.Faulted([]generator.Event{dropped})
	copied := sent("web-0", 3, "cpu", "1")
	copied.Fault = "duplicate"
	h.Sent([]generator.Event{sent("web-0", 3, "cpu", "1"), copied}, time.UnixMilli(3000))
	// Each update sends faults before points: the hit comes first.
	if f := c.Until(t, live.TypeFaults, func(e event) bool { return len(e.Doc["recent"].([]any)) > 0 }); f.Doc["recent"].([]any)[0].(map[string]any)["kinds"] != "drop" {
		t.Errorf("faults: %s; want the drop among the recent hits", f.Raw)
	}
	p = c.Until(t, live.TypePoints, func(e event) bool { return len(e.Doc["points"].([]any)) > 0 })
	got := p.Doc["points"].([]any)
	for len(got) < 2 {
		got = append(got, c.Until(t, live.TypePoints, func(e event) bool { return len(e.Doc["points"].([]any)) > 0 }).Doc["points"].([]any)...)
	}
	want = []any{
		map[string]any{"seq": 2.0, "t_ms": got[0].(map[string]any)["t_ms"], "values": nil, "fault": "drop"},
		map[string]any{"seq": 3.0, "t_ms": 3000.0, "values": map[string]any{"cpu": "1"}, "fault": ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("points after a drop and a duplicate: %v, want %v", got, want)
	}

	h.Close()
	if run := c.Next(t, live.TypeRun); run.Doc["ended"] != true {
		t.Errorf("the last run: %s, want ended", run.Raw)
	}
	c.Next(t, live.TypeEnd)
}

// What a stream follows is bounded: at most MaxSelected deployments, each
// with a ring of at most its points; with no stream connected the Hub
// keeps nothing.
func TestStreamBounds(t *testing.T) {
	_, sched := testConfig(t)
	h, srv := newHub(t, live.Config{MaxSelected: 2, Points: 5, MaxPoints: 8})
	h.Start(live.Run{Start: time.Now(), Schedule: sched})

	h.Sent([]generator.Event{sent("web-0", 1, "cpu", "1")}, time.Now())
	if n, p := h.Following(); n != 0 || p != 0 {
		t.Fatalf("no stream: %d series, %d points kept; want none", n, p)
	}

	c := openStream(t, srv.URL, "select=web-0&select=web-1&select=web-2&points=9")
	hello := c.Next(t, live.TypeHello)
	if hello.Doc["points"] != 5.0 || !reflect.DeepEqual(hello.Doc["selected"], []any{"web-0", "web-1"}) ||
		!reflect.DeepEqual(hello.Doc["refused"], []any{map[string]any{"name": "web-2", "reason": "too many (at most 2)"}}) {
		t.Errorf("hello: %s; want 5 points (9 is over the maximum), web-0 and web-1, web-2 refused", hello.Raw)
	}
	c.Until(t, live.TypePoints, func(e event) bool { return e.Doc["name"] == "web-1" })
	for seq := range uint64(20) {
		h.Sent([]generator.Event{sent("web-0", seq+1, "cpu", "1"), sent("web-2", seq+1, "cpu", "1")}, time.Now())
	}
	if n, p := h.Following(); n != 2 || p > 5 {
		t.Errorf("following %d series with %d points, want 2 with at most 5", n, p)
	}
	last := 0.0
	for last < 20 {
		p := c.Until(t, live.TypePoints, func(e event) bool { return e.Doc["name"] == "web-0" && len(e.Doc["points"].([]any)) > 0 })
		pts := p.Doc["points"].([]any)
		if len(pts) > 5 {
			t.Fatalf("%d points in one document, want at most 5", len(pts))
		}
		last = pts[len(pts)-1].(map[string]any)["seq"].(float64)
	}

	c.Cancel()
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := h.Following(); n != 0; n, _ = h.Following() {
		if time.Now().After(deadline) {
			t.Fatalf("%d series kept after the stream left, want 0", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The deployment list filters by name, case-insensitively, and is bounded.
func TestDeploymentNames(t *testing.T) {
	_, sched := testConfig(t)
	h, srv := newHub(t, live.Config{})
	tests := []struct {
		query string
		want  string
	}{
		{"", `{"v":1,"total":0,"matched":0,"names":[]}`}, // before the start
		{"filter=WEB-1", `{"v":1,"total":3,"matched":1,"names":["web-1"]}`},
		{"limit=2", `{"v":1,"total":3,"matched":3,"names":["web-0","web-1"]}`},
	}
	for i, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if i == 1 {
				h.Start(live.Run{Start: time.Now(), Schedule: sched})
			}
			if got := get(t, srv.URL+"/v1/live/deployments?"+tt.query, "application/json"); got != tt.want+"\n" {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// readings are fixed live.Readings: totals, connected, no lag.
type readings struct{ totals live.Totals }

func (r readings) Totals() live.Totals        { return r.totals }
func (r readings) BrokerConnected() bool      { return true }
func (r readings) LastTickLag() time.Duration { return 0 }
