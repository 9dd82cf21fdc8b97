package generator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Deployments whose definitions are written alike share a parse, never a
// model's state: each walks, and runs its expression, as if it were alone.
func TestAlikeDefinitionsShareNoState(t *testing.T) {
	def := "    metrics:\n      load: {walk: {start: 1, min: 0, max: 10, step: 1}}\n" +
		"      cpu: {expr: \"load / replicas\", vars: {load: {walk: {start: 1, min: 0, max: 10, step: 1}}}}\n"
	values := func(yaml string) []string {
		cfg, err := generator.Parse("c.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		s, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Unix(0, 0), Seed: 9, Count: 30})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for {
			b, ok := s.Next()
			if !ok {
				return out
			}
			for _, ev := range b.Events {
				if ev.App == "a" {
					out = append(out, ev.Metrics[0].Value.Text+"/"+ev.Metrics[1].Value.Text)
				}
			}
		}
	}
	alone := values("deployments:\n  - name: a\n" + def)
	together := values("deployments:\n  - name: b\n" + def + "  - name: a\n" + def + "  - name: c\n" + def)
	if !slices.Equal(alone, together) {
		t.Errorf("a's values change when others share its definitions:\nalone    %v\ntogether %v", alone, together)
	}
}
