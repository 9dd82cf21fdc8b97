package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/judge"
)

// Reaction holds the judge's Prometheus series: it is the Tracker's
// judge.Hooks. Safe for concurrent use.
type Reaction struct {
	reaction     *prometheus.HistogramVec
	requests     *prometheus.CounterVec
	open         prometheus.Gauge
	oscillations prometheus.Counter
}

var _ judge.Hooks = (*Reaction)(nil)

// NewReaction creates the judge's metrics and registers them with reg. It
// panics if they are registered already.
func NewReaction(reg prometheus.Registerer) *Reaction {
	m := &Reaction{
		reaction: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "metricsender_operator_reaction_seconds",
			Help:    "Time from a request (a value sent) to the observation that applied it, by metric.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"metric"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_operator_requests_total",
			Help: "Requests that ended, by metric and result (applied, superseded).",
		}, []string{"metric", "result"}),
		open:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "metricsender_operator_open_requests", Help: "Requests the operator has not applied yet."}),
		oscillations: prometheus.NewCounter(prometheus.CounterOpts{Name: "metricsender_operator_oscillations_total", Help: "Turns of the observed replicas within --oscillation-window that the requested replicas did not turn first (flapping, not obedience)."}),
	}
	reg.MustRegister(m.reaction, m.requests, m.open, m.oscillations)
	return m
}

// Opened implements judge.Hooks.
func (m *Reaction) Opened(string) { m.open.Inc() }

// Applied implements judge.Hooks.
func (m *Reaction) Applied(metric string, d time.Duration) {
	m.open.Dec()
	m.reaction.WithLabelValues(metric).Observe(d.Seconds())
	m.requests.WithLabelValues(metric, "applied").Inc()
}

// Superseded implements judge.Hooks.
func (m *Reaction) Superseded(metric string) {
	m.open.Dec()
	m.requests.WithLabelValues(metric, "superseded").Inc()
}

// Oscillated implements judge.Hooks.
func (m *Reaction) Oscillated() { m.oscillations.Inc() }
