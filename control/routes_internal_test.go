package control

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
)

// controlConfig is two deployments whose choices have one value each, so
// every tick's values are known.
func controlConfig() *generator.Config {
	metrics := func() []generator.MetricSpec {
		return []generator.MetricSpec{
			{Name: "cpu", Model: &generator.Choice{Values: []generator.Value{num("100m", 0.1)}}, Spec: []string{"100m"}},
			{Name: "memory", Model: &generator.Choice{Values: []generator.Value{num("128Mi", 134217728)}}, Spec: []string{"128Mi"}},
		}
	}
	return &generator.Config{Interval: 10 * time.Second, Deployments: []generator.Deployment{
		{Name: "web-0", Metrics: metrics()},
		{Name: "web-1", Interval: 30 * time.Second, Metrics: metrics()},
	}}
}

// startControl serves the control API of a fresh schedule of controlConfig.
func startControl(t *testing.T, enable bool, baseDir string) (*generator.Schedule, string) {
	t.Helper()
	return startControlWith(t, Access{Mutations: enable, StateFeedback: enable}, baseDir)
}

// startControlWith is startControl with the access given.
func startControlWith(t *testing.T, access Access, baseDir string) (*generator.Schedule, string) {
	t.Helper()
	sched, err := generator.NewSchedule(controlConfig(), generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return sched, serve(t, Routes(sched, access, baseDir))
}

// serve serves routes on a local test server until the test ends.
func serve(t *testing.T, routes func(*http.ServeMux)) string {
	t.Helper()
	mux := http.NewServeMux()
	routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func metricState(t *testing.T, s *generator.Schedule, app, metric string) generator.MetricState {
	t.Helper()
	for _, d := range s.Snapshot() {
		for _, m := range d.Metrics {
			if d.Name == app && m.Name == metric {
				return m
			}
		}
	}
	t.Fatalf("no %s.%s in Snapshot", app, metric)
	return generator.MetricState{}
}

type call struct{ method, path, body string }

func num(text string, n float64) generator.Value {
	return generator.Value{Text: text, Num: n, HasNum: true}
}

// checkControlCall makes the prep calls (each must answer 2xx), then c, and
// checks its status, that its body holds wantBody, that an error (but 405)
// is {"error": ...}, and check when given.
func checkControlCall(t *testing.T, sched *generator.Schedule, base string, prep []call, c call, wantStatus int, wantBody string, check func(*testing.T, *generator.Schedule)) {
	t.Helper()
	for _, p := range prep {
		if resp, body := promtest.Do(t, p.method, base+p.path, p.body); resp.StatusCode/100 != 2 {
			t.Fatalf("prep %s %s: %d %s", p.method, p.path, resp.StatusCode, body)
		}
	}
	resp, body := promtest.Do(t, c.method, base+c.path, c.body)
	if resp.StatusCode != wantStatus {
		t.Errorf("status %d, want %d (body %s)", resp.StatusCode, wantStatus, body)
	}
	if !strings.Contains(body, wantBody) {
		t.Errorf("body %s\nwant it to contain %s", body, wantBody)
	}
	if wantStatus >= 400 && wantStatus != 405 {
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
			t.Errorf("error body %q is not {\"error\": ...}", body)
		}
	}
	if check != nil {
		check(t, sched)
	}
}

func TestControlAPI(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trace.csv"), []byte("cpu\n1\n2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const cpu = "/v1/deployments/web-0/metrics/cpu"
	tests := []struct {
		name       string
		readOnly   bool
		prep       []call // each must answer 2xx
		call       call
		wantStatus int
		wantBody   string // a substring
		check      func(t *testing.T, s *generator.Schedule)
	}{
		{name: "list", call: call{"GET", "/v1/deployments", ""}, wantStatus: 200,
			wantBody: `[{"name":"web-0","interval":"10s","paused":false,"seq":0,"metrics":[{"name":"cpu","model":["100m"]},` +
				`{"name":"memory","model":["128Mi"]}],"state":{"replicas":{"value":1,"source":"config"},"ready":{"value":1,"source":"config"}}},` +
				`{"name":"web-1","interval":"30s"`},
		{name: "one", call: call{"GET", "/v1/deployments/web-1", ""}, wantStatus: 200, wantBody: `{"name":"web-1","interval":"30s"`},
		{name: "one unknown", call: call{"GET", "/v1/deployments/nope", ""}, wantStatus: 404,
			wantBody: `{"error":"unknown deployment: \"nope\""}`},
		{name: "override with a value", call: call{"PUT", cpu, `{"value": "2"}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if got := metricState(t, s, "web-0", "cpu").Override; got == nil {
					t.Errorf("Snapshot shows no override")
				}
				v := promtest.NextValues(t, s)
				if v["web-0"]["cpu"] != "2" || v["web-1"]["cpu"] != "100m" || v["web-0"]["memory"] != "128Mi" {
					t.Errorf("next batch %v, want web-0 cpu=2 and the rest as configured", v)
				}
			}},
		{name: "override with a model", call: call{"PUT", cpu, `{"choice": ["7", "8"], "weights": [1, 0]}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if v := promtest.NextValues(t, s); v["web-0"]["cpu"] != "7" {
					t.Errorf("next batch %v, want web-0 cpu=7", v)
				}
			}},
		{name: "override with a replay relative to the config", call: call{"PUT", cpu, `{"replay": {"file": "trace.csv", "column": "cpu"}}`},
			wantStatus: 204, check: func(t *testing.T, s *generator.Schedule) {
				if v := promtest.NextValues(t, s); v["web-0"]["cpu"] != "1" {
					t.Errorf("next batch %v, want web-0 cpu=1", v)
				}
			}},
		{name: "override shows in GET", prep: []call{{"PUT", cpu, `{"value":"2"}`}}, call: call{"GET", "/v1/deployments/web-0", ""},
			wantStatus: 200, wantBody: `{"name":"cpu","model":["100m"],"override":`},
		{name: "last value in GET", check: func(t *testing.T, s *generator.Schedule) { promtest.NextValues(t, s) },
			call: call{"GET", "/v1/deployments/web-0", ""}, wantStatus: 200},
		{name: "clear", prep: []call{{"PUT", cpu, `{"value":"2"}`}}, call: call{"DELETE", cpu, ""}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if got := metricState(t, s, "web-0", "cpu").Override; got != nil {
					t.Errorf("Snapshot still shows override %v", got)
				}
				if v := promtest.NextValues(t, s); v["web-0"]["cpu"] != "100m" {
					t.Errorf("next batch %v, want web-0 cpu back to 100m", v)
				}
			}},
		{name: "clear without override", call: call{"DELETE", cpu, ""}, wantStatus: 204},
		{name: "pause", call: call{"POST", "/v1/deployments/web-0/pause", ""}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if v := promtest.NextValues(t, s); v["web-0"] != nil || v["web-1"] == nil {
					t.Errorf("next batch %v, want web-1 only", v)
				}
			}},
		{name: "resume", prep: []call{{"POST", "/v1/deployments/web-0/pause", ""}}, call: call{"POST", "/v1/deployments/web-0/resume", ""},
			wantStatus: 204, check: func(t *testing.T, s *generator.Schedule) {
				if v := promtest.NextValues(t, s); v["web-0"] == nil {
					t.Errorf("next batch %v, want web-0 in it", v)
				}
			}},
		{name: "paused shows in GET", prep: []call{{"POST", "/v1/deployments/web-1/pause", ""}},
			call: call{"GET", "/v1/deployments/web-1", ""}, wantStatus: 200, wantBody: `"paused":true`},
		{name: "override unknown deployment", call: call{"PUT", "/v1/deployments/nope/metrics/cpu", `{"value":"2"}`},
			wantStatus: 404, wantBody: `unknown deployment`},
		{name: "override unknown metric", call: call{"PUT", "/v1/deployments/web-0/metrics/gpu", `{"value":"2"}`},
			wantStatus: 404, wantBody: `unknown metric`},
		{name: "clear unknown metric", call: call{"DELETE", "/v1/deployments/web-0/metrics/gpu", ""}, wantStatus: 404, wantBody: `unknown metric`},
		{name: "pause unknown", call: call{"POST", "/v1/deployments/nope/pause", ""}, wantStatus: 404, wantBody: `unknown deployment`},
		{name: "resume unknown", call: call{"POST", "/v1/deployments/nope/resume", ""}, wantStatus: 404, wantBody: `unknown deployment`},
		{name: "invalid model", call: call{"PUT", cpu, `{"sine": {"min": 10, "max": 110}}`}, wantStatus: 400, wantBody: `{"error":"model: `,
			check: func(t *testing.T, s *generator.Schedule) {
				if got := metricState(t, s, "web-0", "cpu").Override; got != nil {
					t.Errorf("a rejected override is in force: %v", got)
				}
			}},
		{name: "unknown model", call: call{"PUT", cpu, `{"zigzag": 1}`}, wantStatus: 400, wantBody: `zigzag`},
		{name: "not JSON", call: call{"PUT", cpu, `{"value": `}, wantStatus: 400, wantBody: `"error"`},
		{name: "empty body", call: call{"PUT", cpu, ``}, wantStatus: 400, wantBody: `empty body`},
		{name: "missing replay file", call: call{"PUT", cpu, `{"replay": {"file": "nope.csv", "column": "cpu"}}`},
			wantStatus: 400, wantBody: `nope.csv`},
		{name: "body too large", call: call{"PUT", cpu, `{"value": "` + strings.Repeat("9", maxBody) + `"}`},
			wantStatus: 413, wantBody: `body over 65536 bytes`},
		{name: "wrong method on the list", call: call{"POST", "/v1/deployments", ""}, wantStatus: 405},
		{name: "wrong method on a metric", call: call{"POST", cpu, `{"value":"2"}`}, wantStatus: 405},
		{name: "wrong method on pause", call: call{"GET", "/v1/deployments/web-0/pause", ""}, wantStatus: 405},
		{name: "read-only: GET works", readOnly: true, call: call{"GET", "/v1/deployments", ""}, wantStatus: 200, wantBody: `"web-0"`},
		{name: "read-only: PUT refused", readOnly: true, call: call{"PUT", cpu, `{"value":"2"}`}, wantStatus: 403,
			wantBody: `--enable-control`, check: func(t *testing.T, s *generator.Schedule) {
				if got := metricState(t, s, "web-0", "cpu").Override; got != nil {
					t.Errorf("read-only API set an override: %v", got)
				}
			}},
		{name: "read-only: DELETE refused", readOnly: true, call: call{"DELETE", cpu, ""}, wantStatus: 403, wantBody: `--enable-control`},
		{name: "read-only: pause refused", readOnly: true, call: call{"POST", "/v1/deployments/web-0/pause", ""}, wantStatus: 403,
			check: func(t *testing.T, s *generator.Schedule) {
				if v := promtest.NextValues(t, s); v["web-0"] == nil {
					t.Errorf("read-only API paused web-0")
				}
			}},
		{name: "read-only: resume refused", readOnly: true, call: call{"POST", "/v1/deployments/web-0/resume", ""}, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, base := startControl(t, !tt.readOnly, dir)
			checkControlCall(t, sched, base, tt.prep, tt.call, tt.wantStatus, tt.wantBody, tt.check)
		})
	}
}

// TestControlLastValue: after a tick, GET shows each metric's last value
// with its text and its number.
func TestControlLastValue(t *testing.T) {
	sched, base := startControl(t, false, t.TempDir())
	promtest.NextValues(t, sched)
	resp, body := promtest.Do(t, "GET", base+"/v1/deployments/web-0", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got deploymentJSON
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if got.Seq != 1 || len(got.Metrics) != 2 {
		t.Fatalf("got %+v, want seq 1 and 2 metrics", got)
	}
	for i, want := range []struct {
		text string
		num  float64
	}{{"100m", 0.1}, {"128Mi", 134217728}} {
		last := got.Metrics[i].Last
		if last == nil || last.Text != want.text || last.Number == nil || *last.Number != want.num {
			t.Errorf("metric %s last = %+v, want %s (%v)", got.Metrics[i].Name, last, want.text, want.num)
		}
	}
}

// TestControlLater: the control API served before the schedule exists
// answers 503, then steers the schedule once it is Set.
func TestControlLater(t *testing.T) {
	var later Late
	base := serve(t, Routes(&later, Access{Mutations: true, StateFeedback: true}, t.TempDir()))
	const cpu = "/v1/deployments/web-0/metrics/cpu"

	if resp, body := promtest.Do(t, "GET", base+"/v1/deployments", ""); resp.StatusCode != 200 || body != "[]\n" {
		t.Errorf("GET before Set = %d %q, want 200 and an empty list", resp.StatusCode, body)
	}
	for _, c := range []call{{"PUT", cpu, `{"value":"2"}`}, {"DELETE", cpu, ""}, {"POST", "/v1/deployments/web-0/pause", ""},
		{"POST", "/v1/deployments/web-0/resume", ""}, {"PUT", "/v1/deployments/web-0/state", `{"replicas": 2}`}} {
		if resp, body := promtest.Do(t, c.method, base+c.path, c.body); resp.StatusCode != 503 || !strings.Contains(body, "not started") {
			t.Errorf("%s %s before Set = %d %s, want 503", c.method, c.path, resp.StatusCode, body)
		}
	}

	sched, err := generator.NewSchedule(controlConfig(), generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	later.Set(sched)
	if resp, body := promtest.Do(t, "PUT", base+cpu, `{"value":"2"}`); resp.StatusCode != 204 {
		t.Fatalf("PUT after Set = %d %s, want 204", resp.StatusCode, body)
	}
	if v := promtest.NextValues(t, sched); v["web-0"]["cpu"] != "2" {
		t.Errorf("next batch %v, want web-0 cpu=2", v)
	}
	if resp, body := promtest.Do(t, "GET", base+"/v1/deployments", ""); resp.StatusCode != 200 || !strings.Contains(body, `"override":"2"`) {
		t.Errorf("GET after Set = %d %s, want the override", resp.StatusCode, body)
	}
}
