package telemetry

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

// RegisterShardInfo exports metricsender_shard_info{shard,shards} 1
// (0 and 1 when the process is not sharded).
func RegisterShardInfo(reg prometheus.Registerer, shard generator.Shard) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "metricsender_shard_info",
		Help: "The shard this sender sends (0-based) and the number of shards; always 1.",
	}, []string{"shard", "shards"})
	g.WithLabelValues(strconv.Itoa(shard.Index), strconv.Itoa(max(shard.Count, 1))).Set(1)
	reg.MustRegister(g)
}

// RegisterFaults exports the injector's counts as
// metricsender_faults_injected_total{kind}, one series per kind.
func RegisterFaults(reg prometheus.Registerer, inj *generator.Injector) {
	for _, kind := range generator.FaultKinds {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "metricsender_faults_injected_total",
			Help:        "Faults injected on purpose, by kind: messages dropped, silenced, delayed, made stale, corrupted or with a metric omitted; extra copies for duplicate and burst.",
			ConstLabels: prometheus.Labels{"kind": string(kind)},
		}, func() float64 { return float64(inj.Count(kind)) }))
	}
}
