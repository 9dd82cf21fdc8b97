package promtest

import (
	"testing"

	"github.com/labsea/metricsender/generator"
)

// The names of the counters that are per deployment or totals, as
// telemetry exports them.
const (
	PublishedName  = "metricsender_messages_published_total"
	UnroutableName = "metricsender_unroutable_total"
)

// KnownConfig has deployments on both shards of two, metrics whose
// requests the judge tracks (replicas, cpu, memory) and one it never does
// (tier: target none).
const KnownConfig = `interval: 1h
deployments:
  - name: web
    metrics:
      replicas: [2, 3]
      cpu: [1, 2]
  - name: db
    targets: {tier: none}
    metrics:
      memory: [1Gi]
      tier: [gold]
  - name: cache
    metrics:
      cpu: [1]
  - name: queue
    metrics:
      cpu: [1]
  - name: api
    metrics:
      cpu: [1]
`

// ParseConfig parses content as a metricsender.yaml.
func ParseConfig(t testing.TB, content string) *generator.Config {
	t.Helper()
	cfg, err := generator.Parse("metricsender.yaml", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// AppZeros is the series app=name 0 of each of names.
func AppZeros(names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		out["app="+n] = 0
	}
	return out
}

// RequestZeros is operator_requests_total at 0 for each of metrics.
func RequestZeros(metrics ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metrics {
		for _, r := range []string{"applied", "superseded"} {
			out["metric="+m+",result="+r] = 0
		}
	}
	return out
}

// MetricZeros is operator_reaction_seconds with no sample for each of metrics.
func MetricZeros(metrics ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metrics {
		out["metric="+m] = 0
	}
	return out
}

// OwnedOf is the names of cfg's deployments that shard owns, asked of the
// shard itself; it fails the test when shard owns none (then the config's
// names test nothing).
func OwnedOf(t testing.TB, cfg *generator.Config, shard generator.Shard) []string {
	t.Helper()
	var names []string
	for _, d := range cfg.Deployments {
		if shard.Owns(d.Name) {
			names = append(names, d.Name)
		}
	}
	if len(names) == 0 || (shard.Sharded() && len(names) == len(cfg.Deployments)) {
		t.Fatalf("shard %s owns %v of the config: pick names that split", shard, names)
	}
	return names
}

// NextValues is s's next batch as app -> metric -> text.
func NextValues(t testing.TB, s *generator.Schedule) map[string]map[string]string {
	t.Helper()
	b, ok := s.Next()
	if !ok {
		t.Fatal("schedule ended")
	}
	out := map[string]map[string]string{}
	for _, ev := range b.Events {
		out[ev.App] = map[string]string{}
		for _, m := range ev.Metrics {
			out[ev.App][m.Name] = m.Value.Text
		}
	}
	return out
}
