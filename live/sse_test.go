package live_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/livetest"
	"github.com/labsea/metricsender/live"
)

// testConfig has web-0..web-2 (replicas and a listed cpu, state replicas 2).
func testConfig(t testing.TB) (*generator.Config, *generator.Schedule) {
	t.Helper()
	cfg, err := generator.Parse("live.yaml", []byte(`interval: 2s
deployments:
  - name: web
    count: 3
    state: {replicas: 2}
    metrics:
      replicas: [1, 2, 3]
      cpu: [500m]
`))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1, Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, sched
}

// newHub returns a Hub that streams every 10 ms and a server of its routes.
func newHub(t testing.TB, cfg live.Config) (*live.Hub, *httptest.Server) {
	t.Helper()
	cfg.Every = 10 * time.Millisecond
	h, err := live.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // before srv.Close: streams end
	return h, srv
}

// sent is one message of app with seq and metrics as name, text pairs.
func sent(app string, seq uint64, kv ...string) generator.Event {
	ev := generator.Event{App: app, Seq: seq}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Metrics = append(ev.Metrics, generator.Metric{Name: kv[i], Value: generator.Value{Text: kv[i+1]}})
	}
	return ev
}

type event = livetest.Event

// openStream opens srv's event stream (livetest.Open).
func openStream(t testing.TB, url, query string) *livetest.Stream {
	return livetest.Open(t, url, query)
}
