package checker

import (
	"testing"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// receive --check bounds an expr metric by its min and max, like any model.
func TestCheckerExprBounds(t *testing.T) {
	cfg, err := generator.Parse("c.yaml", []byte("deployments:\n  - name: web\n    metrics:\n"+
		"      cpu: {expr: \"load / replicas\", vars: {load: {sine: {min: 1, max: 6, period: 30m}}}, min: 50m, max: 4}\n"+
		"      free: {expr: \"replicas * 2.0\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cpu, free   string
		outOfBounds int
	}{
		{"0.05", "2", 0},
		{"4", "-7.5", 0},
		{"500m", "1e6", 0},
		{"4.01", "2", 1},
		{"49m", "2", 1},
		{"x", "y", 2},
	}
	for _, tc := range tests {
		t.Run(tc.cpu+","+tc.free, func(t *testing.T) {
			c := New(Config{Run: cfg})
			c.Observe(codec.Received{App: "web", Metrics: []generator.Metric{
				{Name: "cpu", Value: generator.Value{Text: tc.cpu}}, {Name: "free", Value: generator.Value{Text: tc.free}},
			}})
			if c.counts.outOfBounds != tc.outOfBounds {
				t.Errorf("out_of_bounds %d, want %d", c.counts.outOfBounds, tc.outOfBounds)
			}
		})
	}
}
