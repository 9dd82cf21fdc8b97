package telemetry

import (
	"testing"

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
			RegisterShardInfo(reg, tt.shard)
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
