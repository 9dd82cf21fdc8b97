package generator_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

func TestDescribe(t *testing.T) {
	cfg := &generator.Config{Interval: 10 * time.Second}
	for i := range 30 {
		d := generator.Deployment{Name: fmt.Sprintf("web-%d", i)}
		if i%2 == 1 {
			d.Interval = time.Minute
		}
		cfg.Deployments = append(cfg.Deployments, d)
	}
	t.Run("interval: the deployment's, else the config's", func(t *testing.T) {
		if got := cfg.IntervalOf(cfg.Deployments[0]); got != 10*time.Second {
			t.Errorf("IntervalOf(web-0) = %s", got)
		}
		if got := cfg.IntervalOf(cfg.Deployments[1]); got != time.Minute {
			t.Errorf("IntervalOf(web-1) = %s", got)
		}
	})
	t.Run("shard loads add up to the whole", func(t *testing.T) {
		counts, perMinute := generator.ShardLoads(cfg, 3)
		n, rate := 0, 0.0
		for i := range counts {
			n, rate = n+counts[i], rate+perMinute[i]
		}
		if want := generator.PerMinute(cfg, cfg.Deployments); n != 30 || rate < want-1e-9 || rate > want+1e-9 {
			t.Errorf("shards hold %d deployments, %g a minute; want 30, %g", n, rate, want)
		}
	})
	t.Run("spec text", func(t *testing.T) {
		for _, tt := range []struct {
			spec any
			want string
		}{{nil, "?"}, {map[string]string{"expr": "a > b && c"}, `{"expr":"a > b && c"}`}, {func() {}, "?"}} {
			if got := generator.DescribeSpec(tt.spec); got != tt.want {
				t.Errorf("DescribeSpec(%v) = %s, want %s", tt.spec, got, tt.want)
			}
		}
	})
	t.Run("seed and run id", func(t *testing.T) {
		if s := generator.RandomSeed(); s < 0 {
			t.Errorf("RandomSeed() = %d, want >= 0", s)
		}
		if id := generator.NewRunID(); len(id) != 8 {
			t.Errorf("NewRunID() = %q, want 8 hex digits", id)
		}
	})
}
