package telemetry

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

// stateCollector exports each deployment's observed state, read from the
// schedule at scrape time: metricsender_observed_replicas{app} and
// metricsender_observed_allocation{app,metric}. Like last_value it exists
// only while per-deployment series are on (--app-metrics-limit). Before
// the schedule exists it exports nothing. Safe for concurrent use.
type stateCollector struct {
	replicasDesc, allocationDesc *prometheus.Desc
	states                       atomic.Pointer[func() []generator.AppState]
}

func newStateCollector() *stateCollector {
	return &stateCollector{
		replicasDesc: prometheus.NewDesc("metricsender_observed_replicas",
			"The deployment's observed replicas (desired), from its state: or feedback.", []string{"app"}, nil),
		allocationDesc: prometheus.NewDesc("metricsender_observed_allocation",
			"The deployment's observed allocation of a metric, in base units, from its state: or feedback.", []string{"app", "metric"}, nil),
	}
}

// watch makes states the source of the series from now on.
func (c *stateCollector) watch(states func() []generator.AppState) { c.states.Store(&states) }

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.replicasDesc
	ch <- c.allocationDesc
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.states.Load()
	if f == nil {
		return
	}
	for _, s := range (*f)() {
		ch <- prometheus.MustNewConstMetric(c.replicasDesc, prometheus.GaugeValue, s.State.Replicas, s.App)
		for metric, v := range s.State.Allocation {
			ch <- prometheus.MustNewConstMetric(c.allocationDesc, prometheus.GaugeValue, v, s.App, metric)
		}
	}
}
