package generator_test

import (
	"fmt"
	"testing"

	"github.com/labsea/metricsender/generator"
)

func TestOrdinal(t *testing.T) {
	tests := []struct {
		host string
		want int
		ok   bool
	}{
		{"metricsender-0", 0, true},
		{"metricsender-sharded-12", 12, true},
		{"metricsender", 0, false},
		{"metricsender-", 0, false},
		{"metricsender-abc", 0, false},
		{"metricsender-+1", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, ok := generator.Ordinal(tt.host)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Ordinal(%q) = %d, %v; want %d, %v", tt.host, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestOwnDeployments(t *testing.T) {
	cfg := &generator.Config{}
	for i := range 50 {
		cfg.Deployments = append(cfg.Deployments, generator.Deployment{Name: fmt.Sprintf("web-%d", i)})
	}
	for _, n := range []int{0, 1, 3, 7} {
		t.Run(fmt.Sprintf("%d shards: each deployment in exactly one", n), func(t *testing.T) {
			seen := map[string]int{}
			for i := range max(n, 1) {
				shard := generator.Shard{}
				if n > 0 {
					shard = generator.Shard{Index: i, Count: n}
				}
				for _, d := range shard.Deployments(cfg) {
					if !shard.Owns(d.Name) {
						t.Errorf("shard %s got %s, which it does not own", shard, d.Name)
					}
					seen[d.Name]++
				}
			}
			for _, d := range cfg.Deployments {
				if seen[d.Name] != 1 {
					t.Errorf("%s in %d shards, want 1", d.Name, seen[d.Name])
				}
			}
		})
	}
}
