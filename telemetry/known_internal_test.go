package telemetry

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/labsea/metricsender/generator"
)

// knownConfig has deployments on both shards of two, metrics whose
// requests the judge tracks (replicas, cpu, memory) and one it never does
// (tier: target none).
const knownConfig = `interval: 1h
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

func parseConfig(t *testing.T, content string) *generator.Config {
	t.Helper()
	cfg, err := generator.Parse("metricsender.yaml", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// seriesOf is name's series: each one's labels, "k=v,..." in label order,
// and its value (a histogram's sample count).
func seriesOf(fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range fams[name].GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		out[strings.Join(ls, ",")] = v
	}
	return out
}

// appZeros is the series app=name 0 of each of names.
func appZeros(names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		out["app="+n] = 0
	}
	return out
}

// requestZeros is operator_requests_total at 0 for each of metrics.
func requestZeros(metrics ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metrics {
		for _, r := range []string{"applied", "superseded"} {
			out["metric="+m+",result="+r] = 0
		}
	}
	return out
}

// metricZeros is operator_reaction_seconds with no sample for each of metrics.
func metricZeros(metrics ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metrics {
		out["metric="+m] = 0
	}
	return out
}

// ownedOf is the names of cfg's deployments that shard owns, asked of the
// shard itself; it fails the test when shard owns none (then the config's
// names test nothing).
func ownedOf(t *testing.T, cfg *generator.Config, shard generator.Shard) []string {
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

// A fresh scrape, before any message: every deployment the sender sends
// has published and unroutable at 0, and every metric that can open a
// request its operator series; a sharded sender only its own.
func TestSendMetricsKnownAtZero(t *testing.T) {
	cfg := parseConfig(t, knownConfig)
	for _, shard := range []generator.Shard{{}, {Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		t.Run("shard "+shard.String(), func(t *testing.T) {
			reg := NewRegistry()
			m := NewSend(reg, true)
			m.Configured(cfg, shard)
			m.Judged(NewReaction(reg))
			fams, _ := scrape(t, startServer(t, reg))

			own := ownedOf(t, cfg, shard)
			for _, name := range []string{publishedName, unroutableName} {
				if got, want := seriesOf(fams, name), appZeros(own...); !maps.Equal(got, want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if fam := fams["metricsender_last_value"]; fam != nil {
				t.Errorf("last_value before any tick: %v", fam)
			}
			// The request metrics of the shard's deployments, tier never.
			var want []string
			for _, d := range cfg.Deployments {
				for _, ms := range d.Metrics {
					if shard.Owns(d.Name) && ms.Name != "tier" && !slices.Contains(want, ms.Name) {
						want = append(want, ms.Name)
					}
				}
			}
			if got := seriesOf(fams, "metricsender_operator_requests_total"); !maps.Equal(got, requestZeros(want...)) {
				t.Errorf("operator_requests_total = %v, want %v", got, requestZeros(want...))
			}
			if got := seriesOf(fams, "metricsender_operator_reaction_seconds"); !maps.Equal(got, metricZeros(want...)) {
				t.Errorf("operator_reaction_seconds = %v, want %v", got, metricZeros(want...))
			}
		})
	}
	t.Run("per-deployment series off", func(t *testing.T) {
		reg := NewRegistry()
		m := NewSend(reg, false)
		m.Configured(cfg, generator.Shard{})
		fams, _ := scrape(t, startServer(t, reg))
		for _, name := range []string{publishedName, unroutableName} {
			if got, want := seriesOf(fams, name), map[string]float64{"": 0}; !maps.Equal(got, want) {
				t.Errorf("%s = %v, want the total at 0, no app label", name, got)
			}
		}
	})
}

func TestRequestMetrics(t *testing.T) {
	cfg := parseConfig(t, knownConfig)
	for _, tc := range []struct {
		name string
		cfg  string
		want []string
	}{
		{"every metric whose target is not none", knownConfig, []string{"cpu", "memory", "replicas"}},
		{"targets: a metric compared with replicas, one with another's allocation", `deployments:
  - name: web
    targets: {load: replicas, cpu_ms: allocation.cpu, tier: none}
    metrics: {load: [1], cpu_ms: [1], tier: [gold]}
`, []string{"cpu_ms", "load"}},
		{"none at all", "deployments:\n  - name: web\n    targets: {tier: none}\n    metrics: {tier: [gold]}\n", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := requestMetrics(parseConfig(t, tc.cfg), generator.Shard{}); !slices.Equal(got, tc.want) {
				t.Errorf("requestMetrics = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a shard's own deployments only", func(t *testing.T) {
		shard := generator.Shard{Index: generator.ShardOf("db", 2), Count: 2}
		if got := requestMetrics(cfg, shard); !slices.Contains(got, "memory") {
			t.Errorf("requestMetrics(%s) = %v: db's memory missing", shard, got)
		}
		other := generator.Shard{Index: 1 - shard.Index, Count: 2}
		if got := requestMetrics(cfg, other); slices.Contains(got, "memory") {
			t.Errorf("requestMetrics(%s) = %v: db's memory is the other shard's", other, got)
		}
	})
}

// With --config, receive shows the received series of the config's
// deployments at 0 from the start, within --app-metrics-limit; past it,
// the series without the app label, where the others will count.
func TestReceiveMetricsKnownAtZero(t *testing.T) {
	cfg := parseConfig(t, knownConfig)
	for _, tc := range []struct {
		name  string
		cfg   *generator.Config
		limit int
		want  map[string]float64
	}{
		{"no config", nil, 10, map[string]float64{}},
		{"within the limit", cfg, 10, appZeros("web", "db", "cache", "queue", "api")},
		{"past the limit", cfg, 2, appZeros("web", "db", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			var logs strings.Builder
			m := NewReceive(reg, tc.limit, slog.New(slog.NewTextHandler(&logs, nil)))
			m.Known(tc.cfg)
			fams, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]*dto.MetricFamily{}
			for _, f := range fams {
				byName[f.GetName()] = f
			}
			if got := seriesOf(byName, "metricsender_messages_received_total"); !maps.Equal(got, tc.want) {
				t.Errorf("received = %v, want %v", got, tc.want)
			}
			// The warning waits for a message that really goes unlabelled.
			m.Received("web")
			if strings.Contains(logs.String(), "more deployments") {
				t.Errorf("warned before an unlabelled message: %s", logs.String())
			}
			m.Received("queue")
			if got := strings.Contains(logs.String(), "more deployments"); got != (tc.limit == 2) {
				t.Errorf("warned %v after queue's message, want %v: %s", got, tc.limit == 2, logs.String())
			}
		})
	}
}
