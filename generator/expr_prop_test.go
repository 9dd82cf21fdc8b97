package generator_test

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/labsea/metricsender/generator"
)

// exprTemplates are expressions over two vars and the state; some divide
// by something that may be 0.
var exprTemplates = []string{
	"a / replicas",
	"a * ready - b",
	"(a + b) / (replicas + 1.0)",
	"a - b * tick",
	"allocation.cpu * a",
	"elapsed * a / 60.0",
	"replicas > 2.0 ? a : b",
	"a / (ready - 1.0)",
}

// exprRun is one drawn scenario: a config of web's cpu expr and the
// observations made before some ticks.
type exprRun struct {
	yaml string
	obs  map[int]generator.Observation
	n    int
}

func drawExprRun(t *rapid.T) (exprRun, float64, float64) {
	lo := drawMilli(t, "min", -20_000, 20_000, false)
	hi := drawMilli(t, "max", lo.milli, 40_000, rapid.Bool().Draw(t, "quant"))
	expr := rapid.SampledFrom(exprTemplates).Draw(t, "expr")
	vars := `{a: {uniform: {min: -10, max: 10}}, b: {sine: {min: 0, max: 5, period: 1m}}}`
	yaml := fmt.Sprintf("interval: 10s\ndeployments:\n  - name: web\n    state: {replicas: %d, allocation: {cpu: 500m}}\n    metrics:\n      cpu: {expr: %q, vars: %s, min: %q, max: %q}\n",
		rapid.IntRange(0, 5).Draw(t, "replicas"), expr, vars, lo.text, hi.text)
	run := exprRun{yaml: yaml, n: rapid.IntRange(1, 30).Draw(t, "ticks"), obs: map[int]generator.Observation{}}
	for range rapid.IntRange(0, 5).Draw(t, "observations") {
		tick := rapid.IntRange(0, run.n-1).Draw(t, "at")
		run.obs[tick] = generator.Observation{Source: "api",
			Replicas: float64(rapid.IntRange(0, 6).Draw(t, "obs replicas")), HasReplicas: true,
			Allocation: map[string]float64{"cpu": float64(rapid.IntRange(0, 4000).Draw(t, "obs cpu")) / 1000}}
	}
	return run, lo.v, hi.v
}

// play runs r with seed and returns cpu's values and the number of errors.
func (r exprRun) play(t *rapid.T, seed int64) ([]generator.Value, int) {
	cfg, err := generator.Parse("p.yaml", []byte(r.yaml))
	if err != nil {
		t.Fatalf("Parse:\n%s\n%v", r.yaml, err)
	}
	errs := 0
	s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: seed, Start: time.Unix(0, 0),
		OnModelError: func(string, string, error) { errs++ }})
	if err != nil {
		t.Fatal(err)
	}
	var out []generator.Value
	for i := range r.n {
		if ob, ok := r.obs[i]; ok {
			if err := s.Observe("web", ob); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := s.Next()
		out = append(out, b.Events[0].Metrics[0].Value)
	}
	return out, errs
}

func TestExprPropertyWithinBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run, lo, hi := drawExprRun(t)
		cfg, err := generator.Parse("p.yaml", []byte(run.yaml))
		if err != nil {
			t.Fatal(err)
		}
		bounded := cfg.Deployments[0].Metrics[0].Model.(generator.Bounded)
		values, _ := run.play(t, rapid.Int64().Draw(t, "seed"))
		for i, v := range values {
			checkValue(t, cfg.Deployments[0].Metrics[0].Model, v, lo, hi)
			if !bounded.Allows(v.Text) {
				t.Fatalf("tick %d: %q sent but not allowed by the model's bounds [%v, %v]", i, v.Text, lo, hi)
			}
		}
	})
}

func TestExprPropertyDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run, _, _ := drawExprRun(t)
		seed := rapid.Int64().Draw(t, "seed")
		a, errsA := run.play(t, seed)
		b, errsB := run.play(t, seed)
		if !reflect.DeepEqual(a, b) || errsA != errsB {
			t.Fatalf("seed %d twice: %v (%d errors), then %v (%d errors)", seed, a, errsA, b, errsB)
		}
	})
}

func TestExprPropertyDivisionByZero(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 30).Draw(t, "ticks")
		zero := make([]bool, n)
		run := exprRun{n: n, obs: map[int]generator.Observation{},
			yaml: "interval: 10s\ndeployments:\n  - name: web\n    metrics:\n      cpu: {expr: \"a / replicas\", vars: {a: {uniform: {min: 1, max: 9}}}}\n"}
		replicas := 1
		for i := range n {
			if rapid.Bool().Draw(t, "change") {
				replicas = rapid.IntRange(0, 3).Draw(t, "replicas")
				run.obs[i] = generator.Observation{Source: "api", Replicas: float64(replicas), HasReplicas: true}
			}
			zero[i] = replicas == 0
		}
		values, errs := run.play(t, rapid.Int64().Draw(t, "seed"))
		want := 0
		for i, v := range values {
			if !zero[i] {
				if v.Num < 1.0/3-1e-3 || v.Num > 9 {
					t.Fatalf("tick %d: %v, want a/replicas within [1/3, 9]", i, v.Num)
				}
				continue
			}
			want++
			prev := 0.0
			if i > 0 {
				prev = values[i-1].Num
			}
			if v.Num != prev || math.IsInf(v.Num, 0) {
				t.Fatalf("tick %d divides by zero: sent %v, want the previous value %v", i, v.Num, prev)
			}
		}
		if errs != want {
			t.Fatalf("%d errors counted, want %d (one per tick with replicas 0)", errs, want)
		}
	})
}
