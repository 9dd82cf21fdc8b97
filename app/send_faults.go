package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

// registerFaultMetrics exports the injector's counts as
// metricsender_faults_injected_total{kind}, one series per kind.
func registerFaultMetrics(reg prometheus.Registerer, inj *generator.Injector) {
	for _, kind := range generator.FaultKinds {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "metricsender_faults_injected_total",
			Help:        "Faults injected on purpose, by kind: messages dropped, silenced, delayed, made stale, corrupted or with a metric omitted; extra copies for duplicate and burst.",
			ConstLabels: prometheus.Labels{"kind": string(kind)},
		}, func() float64 { return float64(inj.Count(kind)) }))
	}
}
