package judge_test

import (
	"testing"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// CanRequest says from the config what Sent decides at run time: a
// metric whose target is none never opens a request, any other may.
func TestCanRequest(t *testing.T) {
	cfg, err := generator.Parse("c.yaml", []byte(`deployments:
  - name: web
    targets: {load: replicas, cpu_ms: allocation.cpu, tier: none}
    metrics: {replicas: [1], cpu: [1], load: [1], cpu_ms: [1], tier: [gold]}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Deployments[0]
	for _, tc := range []struct {
		metric string
		want   bool
	}{
		{"replicas", true}, // the default target: the observed replicas
		{"cpu", true},      // the default target: its own allocation
		{"load", true},
		{"cpu_ms", true},
		{"tier", false},
	} {
		t.Run(tc.metric, func(t *testing.T) {
			if got := judge.CanRequest(d, tc.metric); got != tc.want {
				t.Errorf("CanRequest(web, %s) = %v, want %v", tc.metric, got, tc.want)
			}
		})
	}
}
