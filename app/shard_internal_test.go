package app

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

func TestShardInfoMetric(t *testing.T) {
	tests := []struct {
		shard              generator.Shard
		wantShard, wantOfN string
	}{
		{generator.Shard{}, "0", "1"},
		{generator.Shard{Index: 2, Count: 4}, "2", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.shard.String(), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			registerShardInfo(reg, tt.shard)
			mfs, err := reg.Gather()
			if err != nil || len(mfs) != 1 || mfs[0].GetName() != "metricsender_shard_info" || len(mfs[0].Metric) != 1 {
				t.Fatalf("gathered %v, %v; want one metricsender_shard_info series", mfs, err)
			}
			m := mfs[0].Metric[0]
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["shard"] != tt.wantShard || labels["shards"] != tt.wantOfN || m.GetGauge().GetValue() != 1 {
				t.Errorf("series %v = %v, want {shard=%q,shards=%q} 1", labels, m.GetGauge().GetValue(), tt.wantShard, tt.wantOfN)
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
