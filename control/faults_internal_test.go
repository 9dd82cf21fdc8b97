package control

import (
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
)

// startFaultControl serves the control API over a schedule and an
// injector of controlConfig, through a Late as send wires it.
func startFaultControl(t *testing.T, enable bool) (*generator.Schedule, *generator.Injector, string) {
	t.Helper()
	cfg := controlConfig()
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	inj := generator.NewInjector(cfg, 1, 0)
	var later Late
	later.Set(sched)
	later.SetInjector(inj)
	return sched, inj, serve(t, Routes(&later, Access{Mutations: enable}, t.TempDir()))
}

// faultedNext is the next batch after inj as app -> fault of its message.
func faultedNext(t *testing.T, s *generator.Schedule, inj *generator.Injector) map[string]string {
	t.Helper()
	b, ok := s.Next()
	if !ok {
		t.Fatal("schedule ended")
	}
	out := map[string]string{}
	for _, ev := range inj.Apply(b.Events, b.At, nil, nil) {
		out[ev.App] = ev.Fault
	}
	return out
}

func TestControlFaults(t *testing.T) {
	tests := []struct {
		name       string
		readOnly   bool
		prep       []call
		call       call
		wantStatus int
		wantBody   string
		check      func(t *testing.T, s *generator.Schedule, inj *generator.Injector)
	}{
		{name: "set one deployment's", call: call{"POST", "/v1/deployments/web-0/faults", `{"drop": {"p": 1}}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule, inj *generator.Injector) {
				if got := faultedNext(t, s, inj); got["web-0"] != "drop" || got["web-1"] != "" {
					t.Errorf("next faults %v, want web-0 dropped only", got)
				}
			}},
		{name: "set everyone's", call: call{"POST", "/v1/faults", `{"omit": {"p": "1", "metrics": ["cpu"]}}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule, inj *generator.Injector) {
				if got := faultedNext(t, s, inj); got["web-0"] != "omit" || got["web-1"] != "omit" {
					t.Errorf("next faults %v, want omit everywhere", got)
				}
			}},
		{name: "clear one", prep: []call{{"POST", "/v1/faults", `{"drop": {"p": 1}}`}, {"POST", "/v1/deployments/web-1/faults", `{"stale": {"p": 1}}`}},
			call: call{"DELETE", "/v1/deployments/web-1/faults", ""}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule, inj *generator.Injector) {
				if got := faultedNext(t, s, inj); got["web-1"] != "drop" {
					t.Errorf("web-1 fault %q, want the /v1/faults drop back", got["web-1"])
				}
			}},
		{name: "clear all", prep: []call{{"POST", "/v1/faults", `{"drop": {"p": 1}}`}},
			call: call{"DELETE", "/v1/faults", ""}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule, inj *generator.Injector) {
				if got := faultedNext(t, s, inj); got["web-0"] != "" || got["web-1"] != "" {
					t.Errorf("faults %v after clearing", got)
				}
			}},
		{name: "shown on the deployment", prep: []call{{"POST", "/v1/deployments/web-0/faults", `{"delay": {"p": 0.5, "by": "1m"}}`}},
			call: call{"GET", "/v1/deployments/web-0", ""}, wantStatus: 200,
			wantBody: `"faults":{"delay":{"by":"1m","p":"0.5"}},"faults_from":"control"`},
		{name: "listed", prep: []call{{"POST", "/v1/deployments/web-1/faults", `{"burst": {"p": 0.1}}`}},
			call: call{"GET", "/v1/faults", ""}, wantStatus: 200,
			wantBody: `[{"name":"web-1","faults":{"burst":{"p":"0.1"}},"faults_from":"control"}]`},
		{name: "read-only", readOnly: true, call: call{"POST", "/v1/faults", `{"drop": {"p": 1}}`}, wantStatus: 403, wantBody: "--enable-control"},
		{name: "unknown deployment", call: call{"POST", "/v1/deployments/nope/faults", `{"drop": {"p": 1}}`}, wantStatus: 404, wantBody: `unknown deployment: \"nope\"`},
		{name: "unknown metric", call: call{"POST", "/v1/deployments/web-0/faults", `{"omit": {"p": 1, "metrics": ["gpu"]}}`}, wantStatus: 400,
			wantBody: `omit.metrics[0]: unknown metric \"gpu\": no metric of web-0 has that name`},
		{name: "bad p", call: call{"POST", "/v1/faults", `{"drop": {"p": 2}}`}, wantStatus: 400, wantBody: `drop.p: want a probability in [0, 1], got \"2\"`},
		{name: "unknown kind", call: call{"POST", "/v1/faults", `{"dorp": {"p": 1}}`}, wantStatus: 400, wantBody: `dorp: unknown key (did you mean \"drop\"?)`},
		{name: "empty body", call: call{"POST", "/v1/faults", ``}, wantStatus: 400, wantBody: "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, inj, base := startFaultControl(t, !tt.readOnly)
			for _, c := range tt.prep {
				if resp, body := promtest.Do(t, c.method, base+c.path, c.body); resp.StatusCode/100 != 2 {
					t.Fatalf("prep %v: %d %s", c, resp.StatusCode, body)
				}
			}
			resp, body := promtest.Do(t, tt.call.method, base+tt.call.path, tt.call.body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Fatalf("%s %s: %d %s, want %d with %q", tt.call.method, tt.call.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.check != nil {
				tt.check(t, s, inj)
			}
		})
	}
}
