package generator_test

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// stateYAML is a config whose only deployment, a, has the given state (line 5).
func stateYAML(state string) string {
	return "deployments:\n  - name: a\n    metrics:\n      m: [1]\n    state: " + state + "\n"
}

// badStates are `state:` sections with known problems (see badConfigs).
var badStates = []struct {
	name, yaml string
	want       []string
}{
	{"unknown state key", stateYAML("{replica: 2}"),
		[]string{`bad.yaml:5:13: deployments[0].state.replica: unknown key (did you mean "replicas"?)`}},
	{"state not a mapping", stateYAML("[2]"),
		[]string{"bad.yaml:5:5: deployments[0].state: want a mapping, got a list"}},
	{"replicas negative, ready not a number", stateYAML("{replicas: -1, ready: many}"),
		[]string{
			"bad.yaml:5:13: deployments[0].state.replicas: must be >= 0, got -1",
			`bad.yaml:5:27: deployments[0].state.ready: not a number or Kubernetes quantity: "many"`,
		}},
	{"allocation value bad", stateYAML("{allocation: {cpu: lots, memory: 1Gi}}"),
		[]string{`bad.yaml:5:26: deployments[0].state.allocation.cpu: not a number or Kubernetes quantity: "lots"`}},
	{"allocation not a mapping", stateYAML("{allocation: 500m}"),
		[]string{"bad.yaml:5:13: deployments[0].state.allocation: want a mapping, got a scalar"}},
	{"allocation name reserved", stateYAML("{allocation: {iswire.x: 1}}"),
		[]string{`bad.yaml:5:26: deployments[0].state.allocation.iswire.x: metric name may not start with "iswire." (reserved for the codec)`}},
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       *generator.State
	}{
		{"no state", "deployments:\n  - name: a\n    metrics:\n      m: [1]\n", nil},
		{"replicas only: ready follows", stateYAML("{replicas: 2}"), &generator.State{Replicas: 2, Ready: 2}},
		{"ready only: replicas stays 1", stateYAML("{ready: 0}"), &generator.State{Replicas: 1, Ready: 0}},
		{"all fields, quantities in base units", stateYAML("{replicas: 3, ready: 2, allocation: {cpu: 500m, memory: 1Ki}}"),
			&generator.State{Replicas: 3, Ready: 2, Allocation: map[string]float64{"cpu": 0.5, "memory": 1024}}},
		{"empty mapping: the defaults", stateYAML("{}"), &generator.State{Replicas: 1, Ready: 1}},
		{"block style", "deployments:\n  - name: a\n    state:\n      replicas: 4\n      allocation:\n        cpu: 2\n    metrics:\n      m: [1]\n",
			&generator.State{Replicas: 4, Ready: 4, Allocation: map[string]float64{"cpu": 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := generator.Parse("s.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Deployments[0].State; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("State = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseStateSharedByCount(t *testing.T) {
	cfg, err := generator.Parse("s.yaml", []byte("deployments:\n  - name: w\n    count: 3\n    state: {replicas: 5}\n    metrics:\n      m: [1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cfg.Deployments {
		if d.State == nil || d.State.Replicas != 5 || d.State.Ready != 5 {
			t.Errorf("%s: State %+v, want replicas 5, ready 5", d.Name, d.State)
		}
	}
}

func stateSchedule(t *testing.T, yaml string) *generator.Schedule {
	t.Helper()
	cfg, err := generator.Parse("s.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1, Start: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustObserved(t *testing.T, s *generator.Schedule, app string) generator.ObservedState {
	t.Helper()
	st, err := s.Observed(app)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestObserve(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	t2 := t1.Add(time.Second)
	cfgSrc := generator.Source{Name: generator.SourceConfig}
	tests := []struct {
		name string
		obs  []generator.Observation
		want generator.ObservedState
	}{
		{"nothing observed: the file's state", nil, generator.ObservedState{
			State:   generator.State{Replicas: 2, Ready: 2, Allocation: map[string]float64{"cpu": 0.5}},
			Sources: generator.StateSources{Replicas: cfgSrc, Ready: cfgSrc, Allocation: map[string]generator.Source{"cpu": cfgSrc}},
		}},
		{"replicas without ready sets ready", []generator.Observation{
			{Source: "api", At: t1, Replicas: 4, HasReplicas: true},
		}, generator.ObservedState{
			State: generator.State{Replicas: 4, Ready: 4, Allocation: map[string]float64{"cpu": 0.5}},
			Sources: generator.StateSources{Replicas: generator.Source{Name: "api", At: t1}, Ready: generator.Source{Name: "api", At: t1},
				Allocation: map[string]generator.Source{"cpu": cfgSrc}},
		}},
		{"field by field, latest wins", []generator.Observation{
			{Source: "kubernetes", At: t1, Replicas: 4, HasReplicas: true, Ready: 1, HasReady: true,
				Allocation: map[string]float64{"cpu": 0.75, "memory": 1024}},
			{Source: "bus", At: t2, Allocation: map[string]float64{"cpu": 1}},
			{Source: "api", At: t2, Ready: 3, HasReady: true},
		}, generator.ObservedState{
			State: generator.State{Replicas: 4, Ready: 3, Allocation: map[string]float64{"cpu": 1, "memory": 1024}},
			Sources: generator.StateSources{Replicas: generator.Source{Name: "kubernetes", At: t1}, Ready: generator.Source{Name: "api", At: t2},
				Allocation: map[string]generator.Source{"cpu": {Name: "bus", At: t2}, "memory": {Name: "kubernetes", At: t1}}},
		}},
		{"an empty observation changes nothing", []generator.Observation{{Source: "api", At: t1}}, generator.ObservedState{
			State:   generator.State{Replicas: 2, Ready: 2, Allocation: map[string]float64{"cpu": 0.5}},
			Sources: generator.StateSources{Replicas: cfgSrc, Ready: cfgSrc, Allocation: map[string]generator.Source{"cpu": cfgSrc}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := stateSchedule(t, "deployments:\n  - name: web\n    state: {replicas: 2, allocation: {cpu: 500m}}\n    metrics:\n      m: [1]\n")
			for _, ob := range tc.obs {
				if err := s.Observe("web", ob); err != nil {
					t.Fatal(err)
				}
			}
			if got := mustObserved(t, s, "web"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Observed:\n got %+v\nwant %+v", got, tc.want)
			}
			if got := s.Snapshot()[0].State; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Snapshot state:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestObserveErrors(t *testing.T) {
	tests := []struct {
		name    string
		app     string
		ob      generator.Observation
		wantIs  error
		wantMsg string
	}{
		{"unknown deployment", "nope", generator.Observation{Source: "api", Replicas: 1, HasReplicas: true},
			generator.ErrUnknownDeployment, `observe: unknown deployment: "nope"`},
		{"no source", "web", generator.Observation{Replicas: 1, HasReplicas: true},
			generator.ErrBadObservation, `observe "web": bad observation: source: empty`},
		{"negative, NaN and a bad name", "web", generator.Observation{Source: "api", Replicas: -1, HasReplicas: true,
			Ready: math.NaN(), HasReady: true, Allocation: map[string]float64{"": 1, "cpu": math.Inf(1)}},
			generator.ErrBadObservation, "observe \"web\": bad observation: replicas: must be >= 0, got -1\n" +
				"ready: must be a finite number, got NaN\nallocation \"\": empty metric name\nallocation.cpu: must be a finite number, got +Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := stateSchedule(t, "deployments:\n  - name: web\n    metrics:\n      m: [1]\n")
			err := s.Observe(tc.app, tc.ob)
			if !errors.Is(err, tc.wantIs) || err.Error() != tc.wantMsg {
				t.Fatalf("Observe: %q, want %q (is %v)", err, tc.wantMsg, tc.wantIs)
			}
			if got := mustObserved(t, s, "web"); got.Replicas != 1 || got.Ready != 1 || got.Allocation != nil {
				t.Errorf("a failed Observe changed the state: %+v", got)
			}
		})
	}
}

func TestApplyKeepsObservedState(t *testing.T) {
	const before = "deployments:\n  - name: web\n    state: {replicas: 2}\n    metrics:\n      m: [1]\n" +
		"  - name: old\n    state: {replicas: 7}\n    metrics:\n      m: [1]\n"
	const after = "deployments:\n  - name: web\n    state: {replicas: 9}\n    metrics:\n      m: [2]\n" +
		"  - name: new\n    state: {replicas: 3, allocation: {cpu: 1}}\n    metrics:\n      m: [1]\n"
	s := stateSchedule(t, before)
	if err := s.Observe("web", generator.Observation{Source: "api", Replicas: 4, HasReplicas: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Observe("old", generator.Observation{Source: "api", Replicas: 1, HasReplicas: true}); err != nil {
		t.Fatal(err)
	}
	apply := func(yaml string) {
		t.Helper()
		cfg, err := generator.Parse("s.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(cfg); err != nil {
			t.Fatal(err)
		}
	}
	apply(after)
	if got := mustObserved(t, s, "web"); got.Replicas != 4 || got.Sources.Replicas.Name != "api" {
		t.Errorf("web after reload: %+v, want the observed replicas 4 from api (its new state: ignored)", got)
	}
	if got := mustObserved(t, s, "new"); got.Replicas != 3 || got.Ready != 3 || got.Allocation["cpu"] != 1 {
		t.Errorf("new: %+v, want its file state", got)
	}
	if _, err := s.Observed("old"); !errors.Is(err, generator.ErrUnknownDeployment) {
		t.Errorf("old after removal: %v, want ErrUnknownDeployment", err)
	}
	apply(before) // old comes back: from its file state, not what was observed before
	if got := mustObserved(t, s, "old"); got.Replicas != 7 || got.Sources.Replicas.Name != generator.SourceConfig {
		t.Errorf("old back: %+v, want its file state", got)
	}
}

func TestObservedStates(t *testing.T) {
	s := stateSchedule(t, "deployments:\n  - name: b\n    metrics:\n      m: [1]\n  - name: a\n    state: {allocation: {cpu: 2}}\n    metrics:\n      m: [1]\n")
	got := s.ObservedStates()
	want := []generator.AppState{
		{App: "a", State: generator.State{Replicas: 1, Ready: 1, Allocation: map[string]float64{"cpu": 2}}},
		{App: "b", State: generator.State{Replicas: 1, Ready: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ObservedStates = %+v, want %+v", got, want)
	}
	got[0].State.Allocation["cpu"] = 99 // the caller's copy
	if st := mustObserved(t, s, "a"); st.Allocation["cpu"] != 2 {
		t.Errorf("changing ObservedStates' result changed the schedule: %v", st.Allocation)
	}
}
