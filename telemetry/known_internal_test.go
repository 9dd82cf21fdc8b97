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
	"github.com/labsea/metricsender/internal/promtest"
)

// A fresh scrape, before any message: every deployment the sender sends
// has published and unroutable at 0, and every metric that can open a
// request its operator series; a sharded sender only its own.
func TestSendMetricsKnownAtZero(t *testing.T) {
	cfg := promtest.ParseConfig(t, promtest.KnownConfig)
	for _, shard := range []generator.Shard{{}, {Index: 0, Count: 2}, {Index: 1, Count: 2}} {
		t.Run("shard "+shard.String(), func(t *testing.T) {
			reg := NewRegistry()
			m := NewSend(reg, true)
			m.Configured(cfg, shard)
			m.Judged(NewReaction(reg))
			fams, _ := promtest.Scrape(t, startServer(t, reg))

			own := promtest.OwnedOf(t, cfg, shard)
			for _, name := range []string{publishedName, unroutableName} {
				if got, want := promtest.SeriesOf(fams, name), promtest.AppZeros(own...); !maps.Equal(got, want) {
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
			if got := promtest.SeriesOf(fams, "metricsender_operator_requests_total"); !maps.Equal(got, promtest.RequestZeros(want...)) {
				t.Errorf("operator_requests_total = %v, want %v", got, promtest.RequestZeros(want...))
			}
			if got := promtest.SeriesOf(fams, "metricsender_operator_reaction_seconds"); !maps.Equal(got, promtest.MetricZeros(want...)) {
				t.Errorf("operator_reaction_seconds = %v, want %v", got, promtest.MetricZeros(want...))
			}
		})
	}
	t.Run("per-deployment series off", func(t *testing.T) {
		reg := NewRegistry()
		m := NewSend(reg, false)
		m.Configured(cfg, generator.Shard{})
		fams, _ := promtest.Scrape(t, startServer(t, reg))
		for _, name := range []string{publishedName, unroutableName} {
			if got, want := promtest.SeriesOf(fams, name), map[string]float64{"": 0}; !maps.Equal(got, want) {
				t.Errorf("%s = %v, want the total at 0, no app label", name, got)
			}
		}
	})
}

func TestRequestMetrics(t *testing.T) {
	cfg := promtest.ParseConfig(t, promtest.KnownConfig)
	for _, tc := range []struct {
		name string
		cfg  string
		want []string
	}{
		{"every metric whose target is not none", promtest.KnownConfig, []string{"cpu", "memory", "replicas"}},
		{"targets: a metric compared with replicas, one with another's allocation", `deployments:
  - name: web
    targets: {load: replicas, cpu_ms: allocation.cpu, tier: none}
    metrics: {load: [1], cpu_ms: [1], tier: [gold]}
`, []string{"cpu_ms", "load"}},
		{"none at all", "deployments:\n  - name: web\n    targets: {tier: none}\n    metrics: {tier: [gold]}\n", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := requestMetrics(promtest.ParseConfig(t, tc.cfg), generator.Shard{}); !slices.Equal(got, tc.want) {
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
	cfg := promtest.ParseConfig(t, promtest.KnownConfig)
	for _, tc := range []struct {
		name  string
		cfg   *generator.Config
		limit int
		want  map[string]float64
	}{
		{"no config", nil, 10, map[string]float64{}},
		{"within the limit", cfg, 10, promtest.AppZeros("web", "db", "cache", "queue", "api")},
		{"past the limit", cfg, 2, promtest.AppZeros("web", "db", "")},
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
			if got := promtest.SeriesOf(byName, "metricsender_messages_received_total"); !maps.Equal(got, tc.want) {
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
