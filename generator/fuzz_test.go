package generator_test

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// FuzzParse feeds arbitrary files to the loader: it must never panic,
// every failure must be a list of *FieldError, and every config it accepts
// must keep its promises (valid unique names, sorted metrics, models that
// produce values they allow, specs that parse back).
func FuzzParse(f *testing.F) {
	f.Add([]byte("deployments:\n  - name: a\n    state: {replicas: 2, ready: 1, allocation: {cpu: 500m}}\n    metrics:\n" +
		"      cpu: {expr: \"x / replicas + allocation.cpu\", vars: {x: {walk: {start: 1, min: 0, max: 3, step: 1}}}, min: 0.1, max: 2, decimals: 1}\n"))
	f.Add([]byte("kubernetes: {kind: StatefulSet, container: app}\ndeployments:\n  - name: a\n    kubernetes: {name: db, allocation: requests, resources: {gpu: amd.com/gpu}}\n    metrics:\n      cpu: [1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := generator.Parse("testdata/fuzz.yaml", data)
		if err != nil {
			fes := generator.FieldErrors(err)
			if len(fes) == 0 || err.Error() != strings.Join(fesText(fes), "\n") {
				t.Fatalf("error is not a list of *FieldError: %v", err)
			}
			return
		}
		if len(cfg.Deployments) == 0 || cfg.Interval <= 0 {
			t.Fatalf("accepted %d deployments, interval %v", len(cfg.Deployments), cfg.Interval)
		}
		seen := map[string]bool{}
		r := rand.New(rand.NewPCG(1, 2))
		for i, d := range cfg.Deployments {
			if d.Name == "" || strings.ContainsAny(d.Name, ".*#> \t\n") || seen[d.Name] || len("Metrics."+d.Name) > 255 {
				t.Fatalf("accepted deployment name %q", d.Name)
			}
			seen[d.Name] = true
			if len(d.Metrics) == 0 || !sort.SliceIsSorted(d.Metrics, func(a, b int) bool { return d.Metrics[a].Name < d.Metrics[b].Name }) {
				t.Fatalf("%s: metrics empty or unsorted", d.Name)
			}
			if i > 20 {
				continue // count may expand to many copies of the same models
			}
			for _, m := range d.Metrics {
				for k := range 3 {
					v := m.Model.Next(r, generator.DefaultInterval*time.Duration(k))
					if v.Text == "" || !m.Model.(generator.Bounded).Allows(v.Text) {
						t.Fatalf("%s.%s: value %+v empty or not allowed by its model", d.Name, m.Name, v)
					}
				}
				spec, err := json.Marshal(m.Spec)
				if err != nil {
					t.Fatalf("%s.%s: spec %#v: %v", d.Name, m.Name, m.Spec, err)
				}
				if _, _, err := generator.ParseModel(spec, "testdata"); err != nil {
					t.Fatalf("%s.%s: spec %s does not parse back: %v", d.Name, m.Name, spec, err)
				}
			}
		}
	})
}
