package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

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
			got, ok := ordinal(tt.host)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ordinal(%q) = %d, %v; want %d, %v", tt.host, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestReloadKeepsTheShard: a reload applies the new file to the running
// schedule, which keeps its shard: deployments the file adds join only
// when the shard owns them.
func TestReloadKeepsTheShard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	write := func(n int) {
		t.Helper()
		data := fmt.Sprintf("interval: 10s\ndeployments:\n  - name: web\n    count: %d\n    metrics: {cpu: [1]}\n", n)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(20)
	cfg, err := generator.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	shard := generator.Shard{Index: 1, Count: 3}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Start: time.Unix(0, 0), Shard: shard})
	if err != nil {
		t.Fatal(err)
	}
	write(60)
	newReloader(path, cfg, sched, nil, nil).Reload()
	next, err := generator.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := sched.Next()
	for _, ev := range b.Events {
		if !shard.Owns(ev.App) {
			t.Errorf("after the reload, %s ticks: shard %s does not own it", ev.App, shard)
		}
	}
	if want := generator.ShardCounts(next, 3)[1]; len(b.Events) != want {
		t.Errorf("%d deployments tick after the reload, want the shard's %d of 60", len(b.Events), want)
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
				for _, d := range ownDeployments(cfg, shard) {
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
