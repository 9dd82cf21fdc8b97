package generator_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

func TestParseModelForms(t *testing.T) {
	tests := []struct {
		name, data string
		spec       any
		first      string // the value at 0
	}{
		{"json string", `"2"`, "2", "2"},
		{"json number", `2`, "2", "2"},
		{"json list", `["1","2"]`, []string{"1", "2"}, ""},
		{"value", `{"value":"200m"}`, "200m", "200m"},
		{"sine json", `{"sine":{"min":"10","max":"110","period":"10m"}}`,
			map[string]any{"sine": map[string]string{"min": "10", "max": "110", "period": "10m"}}, "10"},
		{"indented json with tabs", "{\n\t\"ramp\": {\n\t\t\"from\": 1,\n\t\t\"to\": 10,\n\t\t\"over\": \"5m\"\n\t}\n}",
			map[string]any{"ramp": map[string]string{"from": "1", "to": "10", "over": "5m"}}, "1"},
		{"yaml", "spike: {base: 100m, peak: 2, every: 5m, for: 30s}",
			map[string]any{"spike": map[string]string{"base": "100m", "peak": "2", "every": "5m", "for": "30s"}}, "2"},
		{"weighted", `{"choice":["gold","silver"],"weights":[9,1]}`,
			map[string]any{"choice": []string{"gold", "silver"}, "weights": []string{"9", "1"}}, ""},
		{"replay", `{"replay":{"file":"traces/good.csv","column":"memory"}}`,
			map[string]any{"replay": map[string]string{"file": "traces/good.csv", "column": "memory"}}, "256Mi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, spec, err := generator.ParseModel([]byte(tc.data), "testdata")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec, tc.spec) {
				t.Errorf("spec = %#v, want %#v", spec, tc.spec)
			}
			if tc.first != "" {
				if got := m.Next(rand.New(rand.NewPCG(1, 1)), 0).Text; got != tc.first {
					t.Errorf("first value %q, want %q", got, tc.first)
				}
			}
			// The spec, marshaled, parses back to the same spec.
			data, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			_, again, err := generator.ParseModel(data, "testdata")
			if err != nil || !reflect.DeepEqual(again, spec) {
				t.Errorf("round trip of %s: %#v, %v", data, again, err)
			}
		})
	}
}

func TestParseModelErrors(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"empty", ``, []string{"empty document: want a model"}},
		{"empty mapping", `{}`, []string{"empty mapping: want a list, a value or one of: choice, weights, value, uniform, walk, sine, ramp, spike, replay, expr, vars, min, max, format, decimals"}},
		{"every problem of a sine", `{"sine":{"min":"1","max":"0","period":"0s"}}`,
			[]string{"sine.period: must be > 0, got 0s", "sine.max: must be >= min (1), got 0"}},
		{"unknown key", `{"sine":{"min":1,"max":2,"period":"1m"},"x":1}`,
			[]string{"x: unknown key (want one of: choice, weights, value, uniform, walk, sine, ramp, spike, replay, expr, vars, min, max, format, decimals)"}},
		{"list item", `["1",["2"]]`, []string{"[1]: want a value, got a list (a list holds values only)"}},
		{"null value", `{"value":null}`, []string{"value: want a value, got nothing"}},
		{"syntax", `{"value": [}`, []string{"YAML syntax: did not find expected node content"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := generator.ParseModel([]byte(tc.data), "testdata")
			if err == nil {
				t.Fatal("ParseModel succeeded")
			}
			if got := fesText(generator.FieldErrors(err)); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors %q, want %q", got, tc.want)
			}
		})
	}
}

// TestValueFormats pins how generated values are printed: canonical
// quantities when the model was written with them, plain decimals with the
// step's decimals (a fixed grid), or at most 3 trimmed decimals.
func TestValueFormats(t *testing.T) {
	s := time.Second
	tests := []struct {
		name, model string
		at          []time.Duration
		want        []string
	}{
		{"ramp plain", "{ramp: {from: 0, to: 1, over: 4s}}", []time.Duration{0, s, 2 * s, 3 * s, 4 * s, 9 * s}, []string{"0", "0.25", "0.5", "0.75", "1", "1"}},
		{"ramp three decimals", "{ramp: {from: 0, to: 1, over: 3s}}", []time.Duration{s, 2 * s}, []string{"0.333", "0.667"}},
		{"ramp down", "{ramp: {from: 10, to: 1, over: 3s}}", []time.Duration{0, s, 3 * s}, []string{"10", "7", "1"}},
		{"ramp milli", "{ramp: {from: 0, to: 1500m, over: 3s}}", []time.Duration{0, s, 2 * s, 3 * s}, []string{"0", "500m", "1", "1500m"}},
		{"ramp binary", "{ramp: {from: 1Gi, to: 2Gi, over: 2s}}", []time.Duration{0, s, 2 * s}, []string{"1Gi", "1536Mi", "2Gi"}},
		{"sine", "{sine: {min: 10, max: 110, period: 4s}}", []time.Duration{0, s, 2 * s, 3 * s, 4 * s}, []string{"10", "60", "110", "60", "10"}},
		{"sine phase", "{sine: {min: 10, max: 110, period: 4s, phase: 1s}}", []time.Duration{0, s}, []string{"60", "110"}},
		{"sine quantity", "{sine: {min: 250m, max: 750m, period: 4s}}", []time.Duration{0, s, 2 * s}, []string{"250m", "500m", "750m"}},
		{"spike plain", "{spike: {base: 0.10, peak: 2, every: 1m, for: 10s}}", []time.Duration{0, 9 * s, 10 * s, 60 * s, 70 * s}, []string{"2", "2", "0.1", "2", "0.1"}},
		{"spike quantity", "{spike: {base: 100m, peak: 2, every: 1m, for: 10s}}", []time.Duration{0, 30 * s}, []string{"2", "100m"}},
		{"walk first is start", "{walk: {start: 500m, min: 100m, max: 2, step: 100m}}", []time.Duration{0}, []string{"500m"}},
		{"walk plain fixed decimals", "{walk: {start: 1, min: 1, max: 1, step: 0.25}}", []time.Duration{0, s}, []string{"1.00", "1.00"}},
		{"uniform single point grid", "{uniform: {min: 2, max: 2.1, step: 0.5}}", []time.Duration{0}, []string{"2.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := generator.ParseModel([]byte(tc.model), "")
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			for i, at := range tc.at {
				v := m.Next(r, at)
				if v.Text != tc.want[i] || !v.HasNum {
					t.Errorf("at %v: %+v, want text %q with a number", at, v, tc.want[i])
				}
				if !m.(generator.Bounded).Allows(v.Text) {
					t.Errorf("at %v: model does not allow its own value %q", at, v.Text)
				}
			}
		})
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		model string
		yes   []string
		no    []string
	}{
		{"[0.5, 0.8, gold]", []string{"0.5", "0.50", "500m", "gold"}, []string{"0.6", "Gold", "", "x"}},
		{"{choice: [a, b, c], weights: [1, 0, 1]}", []string{"a", "c"}, []string{"b", "d"}},
		{"1", []string{"1", "1.0", "1000m"}, []string{"2", "one"}},
		{"{uniform: {min: 10, max: 100, step: 5}}", []string{"10", "100", "57", "1e2"}, []string{"9", "101", "ten"}},
		{"{walk: {start: 500m, min: 100m, max: 2, step: 100m}}", []string{"100m", "2", "0.5", "1500m"}, []string{"99m", "2001m"}},
		{"{sine: {min: 10, max: 110, period: 1m}}", []string{"10", "110", "60.5"}, []string{"9.9", "110.1"}},
		{"{sine: {min: 0.0004, max: 1.0004, period: 1m}}", []string{"0", "1", "0.5"}, []string{"-0.001", "1.001"}},
		{"{ramp: {from: 10, to: 1, over: 1m}}", []string{"1", "10", "5.5"}, []string{"0.9", "10.1"}},
		{"{spike: {base: 100m, peak: 2, every: 1m, for: 1s}}", []string{"100m", "0.1", "2", "2000m"}, []string{"1", "0.2"}},
		{"{replay: {file: traces/good.csv, column: cpu}}", []string{"0.5", "0.75", "1.0", "1"}, []string{"0.6", "cpu"}},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			m, _, err := generator.ParseModel([]byte(tc.model), "testdata")
			if err != nil {
				t.Fatal(err)
			}
			b := m.(generator.Bounded)
			for _, s := range tc.yes {
				if !b.Allows(s) {
					t.Errorf("Allows(%q) = false, want true", s)
				}
			}
			for _, s := range tc.no {
				if b.Allows(s) {
					t.Errorf("Allows(%q) = true, want false", s)
				}
			}
		})
	}
}
