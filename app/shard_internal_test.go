package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

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
