package control

import (
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
)

func TestControlState(t *testing.T) {
	const web = "/v1/deployments/web-0/state"
	observed := func(t *testing.T, s *generator.Schedule) generator.ObservedState {
		t.Helper()
		st, err := s.Observed("web-0")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	unchanged := func(t *testing.T, s *generator.Schedule) {
		t.Helper()
		if st := observed(t, s); st.Replicas != 1 || st.Ready != 1 || st.Allocation != nil || st.Sources.Replicas.Name != "config" {
			t.Errorf("state changed: %+v", st)
		}
	}
	tests := []struct {
		name       string
		readOnly   bool
		access     *Access // nil: every mutation allowed, or none when readOnly
		prep       []call
		call       call
		wantStatus int
		wantBody   string // a substring
		check      func(t *testing.T, s *generator.Schedule)
	}{
		{name: "every field", call: call{"PUT", web, `{"replicas": 3, "ready": 2, "allocation": {"cpu": "750m", "memory": 1024}}`},
			wantStatus: 204, check: func(t *testing.T, s *generator.Schedule) {
				st := observed(t, s)
				if st.Replicas != 3 || st.Ready != 2 || st.Allocation["cpu"] != 0.75 || st.Allocation["memory"] != 1024 {
					t.Errorf("state %+v, want replicas 3, ready 2, cpu 0.75, memory 1024", st)
				}
				if st.Sources.Replicas.Name != "api" || st.Sources.Allocation["cpu"].Name != "api" || st.Sources.Replicas.At.IsZero() {
					t.Errorf("sources %+v, want api with a time", st.Sources)
				}
			}},
		{name: "replicas alone: ready follows", call: call{"PUT", web, `{"replicas": "4"}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if st := observed(t, s); st.Replicas != 4 || st.Ready != 4 {
					t.Errorf("state %+v, want replicas 4, ready 4", st)
				}
			}},
		{name: "allocation alone: replicas stay", prep: []call{{"PUT", web, `{"replicas": 5}`}},
			call: call{"PUT", web, `{"allocation": {"cpu": 2}}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if st := observed(t, s); st.Replicas != 5 || st.Allocation["cpu"] != 2 {
					t.Errorf("state %+v, want replicas 5 kept and cpu 2", st)
				}
			}},
		{name: "GET shows the state and its sources", prep: []call{{"PUT", web, `{"allocation": {"cpu": "500m"}}`}},
			call: call{"GET", "/v1/deployments/web-0", ""}, wantStatus: 200,
			wantBody: `"state":{"replicas":{"value":1,"source":"config"},"ready":{"value":1,"source":"config"},"allocation":{"cpu":{"value":0.5,"source":"api","at":"`},
		{name: "unknown deployment", call: call{"PUT", "/v1/deployments/nope/state", `{"replicas": 1}`}, wantStatus: 404,
			wantBody: `unknown deployment: \"nope\"`},
		{name: "not JSON", call: call{"PUT", web, `{"replicas": `}, wantStatus: 400, wantBody: `state: unexpected EOF`, check: unchanged},
		{name: "unknown field", call: call{"PUT", web, `{"replica": 2}`}, wantStatus: 400, wantBody: `unknown field \"replica\"`, check: unchanged},
		{name: "negative", call: call{"PUT", web, `{"replicas": -1, "ready": 1}`}, wantStatus: 400,
			wantBody: `bad observation: replicas: must be \u003e= 0, got -1`, check: unchanged},
		{name: "bad quantity and bool", call: call{"PUT", web, `{"ready": true, "allocation": {"cpu": "lots"}}`}, wantStatus: 400,
			wantBody: `ready: want a number or a quantity string, got true; allocation.cpu: not a number or Kubernetes quantity: \"lots\"`, check: unchanged},
		{name: "bad allocation name", call: call{"PUT", web, `{"allocation": {"iswire.cpu": 1}}`}, wantStatus: 400,
			wantBody: `reserved for the codec`, check: unchanged},
		{name: "no field", call: call{"PUT", web, `{}`}, wantStatus: 400, wantBody: `no field`, check: unchanged},
		{name: "empty body", call: call{"PUT", web, ``}, wantStatus: 400, wantBody: `state: EOF`, check: unchanged},
		{name: "two values", call: call{"PUT", web, `{"replicas": 2} {"replicas": 3}`}, wantStatus: 400, wantBody: `more than one`, check: unchanged},
		{name: "body too large", call: call{"PUT", web, `{"replicas": "` + strings.Repeat("9", maxBody) + `"}`},
			wantStatus: 413, check: unchanged},
		{name: "wrong method", call: call{"POST", web, `{"replicas": 2}`}, wantStatus: 405},
		{name: "neither flag: refused, naming --feedback api", readOnly: true, call: call{"PUT", web, `{"replicas": 2}`}, wantStatus: 403,
			wantBody: `the api feedback source is off: start metricsender send with --feedback api`, check: unchanged},
		{name: "--enable-control without --feedback api: refused", access: &Access{Mutations: true},
			call: call{"PUT", web, `{"replicas": 2}`}, wantStatus: 403, wantBody: `--feedback api`, check: unchanged},
		{name: "--feedback api without --enable-control: refused, naming it", access: &Access{StateFeedback: true},
			call: call{"PUT", web, `{"replicas": 3}`}, wantStatus: 403, wantBody: `--enable-control`, check: unchanged},
		{name: "both flags: taken", access: &Access{StateFeedback: true, Mutations: true},
			call: call{"PUT", web, `{"replicas": 3}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				if st := observed(t, s); st.Replicas != 3 || st.Sources.Replicas.Name != "api" {
					t.Errorf("state %+v, want replicas 3 set by api", st)
				}
			}},
		{name: "--feedback api alone opens no other mutation", access: &Access{StateFeedback: true},
			call: call{"POST", "/v1/deployments/web-0/pause", ""}, wantStatus: 403, wantBody: `--enable-control`},
		{name: "takes effect at the next tick", call: call{"PUT", web, `{"replicas": 2}`}, wantStatus: 204,
			check: func(t *testing.T, s *generator.Schedule) {
				m, spec, err := generator.ParseModel([]byte(`{"expr": "1.0 / replicas"}`), "")
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Override("web-0", "cpu", m, spec); err != nil {
					t.Fatal(err)
				}
				if v := promtest.NextValues(t, s); v["web-0"]["cpu"] != "0.5" {
					t.Errorf("next batch %v, want web-0 cpu=0.5 (1 / the replicas put)", v)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			access := Access{Mutations: !tt.readOnly, StateFeedback: !tt.readOnly}
			if tt.access != nil {
				access = *tt.access
			}
			sched, base := startControlWith(t, access, t.TempDir())
			checkControlCall(t, sched, base, tt.prep, tt.call, tt.wantStatus, tt.wantBody, tt.check)
		})
	}
}
