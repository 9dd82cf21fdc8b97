package generator_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// exprValues runs the config's deployment web for n ticks, observing obs
// (if any) before the tick named by its key, and returns cpu's values
// and the errors reported.
func exprValues(t *testing.T, yaml string, n int, obs map[int]generator.Observation) ([]string, []string) {
	t.Helper()
	cfg, err := generator.Parse("e.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 7, Start: time.Unix(0, 0),
		OnModelError: func(app, metric string, err error) {
			if !errors.Is(err, generator.ErrExprEval) {
				t.Errorf("error %v does not wrap ErrExprEval", err)
			}
			errs = append(errs, app+"."+metric+": "+err.Error())
		}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range n {
		if ob, ok := obs[i]; ok {
			if err := s.Observe("web", ob); err != nil {
				t.Fatal(err)
			}
		}
		b, ok := s.Next()
		if !ok {
			t.Fatal("schedule ended")
		}
		for _, ev := range b.Events {
			for _, m := range ev.Metrics {
				if ev.App == "web" && m.Name == "cpu" {
					out = append(out, m.Value.Text)
				}
			}
		}
	}
	return out, errs
}

// webExpr is a config whose deployment web has the given state and cpu model.
func webExpr(state, cpu string) string {
	return "interval: 10s\ndeployments:\n  - name: web\n    state: " + state + "\n    metrics:\n      cpu: " + cpu + "\n"
}

func TestExprValues(t *testing.T) {
	replicas := func(n float64) generator.Observation {
		return generator.Observation{Source: "api", Replicas: n, HasReplicas: true}
	}
	tests := []struct {
		name, state, cpu string
		n                int
		obs              map[int]generator.Observation
		want, wantErrs   []string
	}{
		{"state replicas, then feedback from the next tick", "{replicas: 2}", `{expr: "2.0 / replicas"}`, 4,
			map[int]generator.Observation{2: replicas(4)}, []string{"1", "1", "0.5", "0.5"}, nil},
		{"decimals trimmed", "{}", `{expr: "2.0 / 3.0"}`, 1, nil, []string{"0.667"}, nil},
		{"decimals: 1", "{}", `{expr: "2.0 / 3.0", decimals: 1}`, 1, nil, []string{"0.7"}, nil},
		{"int result", "{replicas: 3}", `{expr: "int(replicas) * 2"}`, 1, nil, []string{"6"}, nil},
		{"format: quantity", "{}", `{expr: "0.25", format: quantity}`, 1, nil, []string{"250m"}, nil},
		{"a plain var makes decimals", "{replicas: 4}", `{expr: "c / replicas", vars: {c: 2}}`, 1, nil, []string{"0.5"}, nil},
		{"a quantity var makes quantities", "{replicas: 4}", `{expr: "c / replicas", vars: {c: 2000m}}`, 1, nil, []string{"500m"}, nil},
		{"binary quantity var", "{replicas: 2}", `{expr: "m / replicas", vars: {m: 1Gi}}`, 1, nil, []string{"512Mi"}, nil},
		{"format: decimal over a quantity var", "{replicas: 4}", `{expr: "c / replicas", vars: {c: 2000m}, format: decimal, decimals: 2}`, 1, nil, []string{"0.5"}, nil},
		{"allocation, elapsed and tick", "{allocation: {cpu: 500m}}", `{expr: "allocation.cpu + elapsed + tick"}`, 3, nil,
			[]string{"0.5", "11.5", "22.5"}, nil},
		{"ready", "{replicas: 3, ready: 1}", `{expr: "ready / replicas"}`, 1, nil, []string{"0.333"}, nil},
		{"clamped", "{replicas: 1}", `{expr: "10.0 / replicas", min: 50m, max: 4}`, 3,
			map[int]generator.Observation{1: replicas(1000)}, []string{"4", "0.05", "0.05"}, nil},
		{"division by zero repeats the previous value", "{replicas: 2}", `{expr: "2.0 / replicas"}`, 3,
			map[int]generator.Observation{1: replicas(0)}, []string{"1", "1", "1"},
			[]string{
				`web.cpu: expression "2.0 / replicas": result +Inf is not a finite number`,
				`web.cpu: expression "2.0 / replicas": result +Inf is not a finite number`,
			}},
		{"integer division by zero", "{replicas: 0}", `{expr: "2 / int(replicas)"}`, 1, nil, []string{"0"},
			[]string{`web.cpu: expression "2 / int(replicas)": division by zero`}},
		{"a missing allocation key on the first tick sends min", "{}", `{expr: "allocation.cpu", min: 100m}`, 2,
			map[int]generator.Observation{1: {Source: "api", Allocation: map[string]float64{"cpu": 0.75}}},
			[]string{"0.1", "0.75"}, []string{`web.cpu: expression "allocation.cpu": no such key: cpu`}},
		{"out of range", "{}", `{expr: "1e300"}`, 1, nil, []string{"0"},
			[]string{`web.cpu: expression "1e300": result 1e+300 is out of range (at most 9e+15 in magnitude)`}},
		{"a var keeps its stream through errors", "{replicas: 0}", `{expr: "w / replicas", vars: {w: {ramp: {from: 0, to: 10, over: 100s}}}}`, 3,
			map[int]generator.Observation{2: replicas(1)}, []string{"0", "0", "2"},
			[]string{`web.cpu: expression "w / replicas": result NaN is not a finite number`,
				`web.cpu: expression "w / replicas": result +Inf is not a finite number`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := exprValues(t, webExpr(tc.state, tc.cpu), tc.n, tc.obs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values %q, want %q", got, tc.want)
			}
			if !reflect.DeepEqual(errs, tc.wantErrs) {
				t.Errorf("errors %q, want %q", errs, tc.wantErrs)
			}
		})
	}
}

func TestExprVarsOwnStreams(t *testing.T) {
	// A var draws from Stream(seed, deployment, metric+NUL+var): the same
	// whatever other vars the expression has, and not the metric's stream.
	const u = `{uniform: {min: 0, max: 1000, step: 1}}`
	alone, _ := exprValues(t, webExpr("{}", `{expr: "a", vars: {a: `+u+`}}`), 5, nil)
	with, _ := exprValues(t, webExpr("{}", `{expr: "a", vars: {a: `+u+`, b: `+u+`}}`), 5, nil)
	other, _ := exprValues(t, webExpr("{}", `{expr: "b", vars: {a: `+u+`, b: `+u+`}}`), 5, nil)
	plain, _ := exprValues(t, webExpr("{}", u), 5, nil)
	if !reflect.DeepEqual(alone, with) {
		t.Errorf("var a: %q alone, %q beside b: a var's stream must not depend on the others", alone, with)
	}
	if reflect.DeepEqual(alone, other) || reflect.DeepEqual(alone, plain) {
		t.Errorf("a %q, b %q, the metric's own stream %q: each must differ", alone, other, plain)
	}
}

func TestExprSharedByCount(t *testing.T) {
	cfg, err := generator.Parse("e.yaml", []byte("deployments:\n  - name: w\n    count: 3\n    metrics:\n      cpu: {expr: \"1.0 + x\", vars: {x: 1}}\n"+
		"  - name: v\n    metrics:\n      cpu: {expr: \"1.0 + x\", vars: {x: 2}}\n      mem: {expr: \"2.0\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	first := generator.ExprProgram(cfg.Deployments[0].Metrics[0].Model)
	for _, d := range cfg.Deployments {
		if p := generator.ExprProgram(d.Metrics[0].Model); p != first {
			t.Errorf("%s: its own program, want the one compiled for %q", d.Name, "1.0 + x")
		}
	}
	if generator.ExprProgram(cfg.Deployments[3].Metrics[1].Model) == first {
		t.Error("another expression shares the program")
	}
}

func TestExprParseModelRoundTrip(t *testing.T) {
	const in = `{"expr": "load / replicas", "vars": {"load": {"sine": {"min": "1", "max": "6", "period": "30m"}}}, "min": "50m", "max": "4", "decimals": "2"}`
	m, spec, err := generator.ParseModel([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	m2, spec2, err := generator.ParseModel(out, "")
	if err != nil {
		t.Fatalf("ParseModel(%s): %v", out, err)
	}
	if !reflect.DeepEqual(spec, spec2) {
		t.Errorf("spec %v, then %v", spec, spec2)
	}
	for _, mm := range []generator.Model{m, m2} {
		b := mm.(generator.Bounded)
		for text, want := range map[string]bool{"0.05": true, "50m": true, "4": true, "4.1": false, "0.04": false, "x": false} {
			if got := b.Allows(text); got != want {
				t.Errorf("Allows(%q) = %v, want %v", text, got, want)
			}
		}
	}
	if _, _, err := generator.ParseModel([]byte(`{"expr": "load / replcas", "vars": {"load": "1"}}`), ""); err == nil ||
		!strings.Contains(err.Error(), `expr: at column 8: unknown variable "replcas"`) {
		t.Errorf("ParseModel of an unknown variable: %v, want the column in the message", err)
	}
}

func TestExprOverride(t *testing.T) {
	cfg, err := generator.Parse("e.yaml", []byte(webExpr("{replicas: 2}", "[1]")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1, Start: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	m, spec, err := generator.ParseModel([]byte(`{"expr": "3.0 * replicas"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Override("web", "cpu", m, spec); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Next()
	if got := b.Events[0].Metrics[0].Value.Text; got != "6" {
		t.Errorf("override sent %q, want 6 (3 * the observed replicas)", got)
	}
}
