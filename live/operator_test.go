package live_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/standin"
)

// counted counts the calls passed on.
type counted struct {
	standin.NopCounter
	requests int
}

func (c *counted) Request() { c.requests++ }

// The operator's page: its own HTML, and a stream of what the stand-in
// read, answered and missed, with its last decisions; calls pass on to
// the operator's /metrics counter.
func TestOperatorPage(t *testing.T) {
	next := &counted{}
	v := live.NewOperatorView("follow", next, 10*time.Millisecond)
	mux := http.NewServeMux()
	v.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(v.Close)

	page := get(t, srv.URL+"/", "text/html")
	for _, id := range []string{"op-requests", "op-answered", "op-missed", "decisions"} {
		if !strings.Contains(page, id) {
			t.Errorf("the operator's page has no %s", id)
		}
	}
	get(t, srv.URL+"/assets/operator.js", "")

	at := time.UnixMilli(5000)
	for range 3 {
		v.Request()
	}
	v.Missed()
	v.Decided(standin.Decision{App: "web", At: at, Outcome: standin.OutcomeMissed})
	v.Decided(standin.Decision{App: "web", At: at, Outcome: standin.OutcomeNone})
	v.Decided(standin.Decision{App: "web", At: at, Outcome: standin.OutcomeAnswer, Replicas: 3, HasReplicas: true,
		Allocation: map[string]float64{"cpu": 0.5}, Due: at.Add(time.Second)})

	c := openStream(t, srv.URL, "")
	d := c.Until(t, live.TypeOperator, func(e event) bool { return e.Doc["requests"] == 3.0 }).Doc
	if d["policy"] != "follow" || d["answered"] != 1.0 || d["missed"] != 1.0 || len(d["decisions"].([]any)) != 3 {
		t.Errorf("operator event %v: want follow, 3 requests, 1 answered, 1 missed, 3 decisions", d)
	}
	answer := d["decisions"].([]any)[2].(map[string]any)
	if answer["outcome"] != "answer" || answer["replicas"] != 3.0 || answer["due_ms"] != 6000.0 || answer["allocation"].(map[string]any)["cpu"] != 0.5 {
		t.Errorf("the last decision %v: want the answer, replicas 3, cpu 0.5, due at 6000", answer)
	}
	if next.requests != 3 {
		t.Errorf("%d requests passed on to the operator's counter, want 3", next.requests)
	}
	v.Close()
	for range c.Events { // the stream ends with the view
	}
}
