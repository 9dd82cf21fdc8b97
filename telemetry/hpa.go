package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/judge"
)

// HPAReaction holds the series of the real HPA's reactions (judge.Report's
// HPA part): it is the Tracker's judge.HPAHooks, so that /metrics and the
// report count the same requests. Safe for concurrent use.
type HPAReaction struct {
	reaction prometheus.Histogram
	requests *prometheus.CounterVec
	open     prometheus.Gauge
}

var _ judge.HPAHooks = (*HPAReaction)(nil)

// NewHPAReaction creates the HPA's series and registers them with reg,
// with unjudged (the count of deployments whose HPA is not followed, read
// at scrape time; nil for none). Both results of requests_total are at 0
// from the start. It panics if they are registered already.
func NewHPAReaction(reg prometheus.Registerer, unjudged func() int) *HPAReaction {
	m := &HPAReaction{
		reaction: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "metricsender_operator_hpa_reaction_seconds",
			Help:    "Time from a message whose value called for a new replica count under the HPA's own spec to the observation of that count.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_operator_hpa_requests_total",
			Help: "HPA requests (replica counts the HPA's spec called for) that ended, by result (applied, superseded).",
		}, []string{"result"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "metricsender_operator_hpa_open_requests",
			Help: "HPA requests the HPA has not applied yet."}),
	}
	m.requests.WithLabelValues("applied")
	m.requests.WithLabelValues("superseded")
	reg.MustRegister(m.reaction, m.requests, m.open)
	if unjudged != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "metricsender_operator_hpa_unjudged",
			Help: "Deployments an HPA scales whose reactions are not judged (a spec the judge does not follow, or the HPAs unreadable: see the log)."},
			func() float64 { return float64(unjudged()) }))
	}
	return m
}

// HPAOpened implements judge.HPAHooks.
func (m *HPAReaction) HPAOpened() { m.open.Inc() }

// HPAApplied implements judge.HPAHooks.
func (m *HPAReaction) HPAApplied(d time.Duration) {
	m.open.Dec()
	m.reaction.Observe(d.Seconds())
	m.requests.WithLabelValues("applied").Inc()
}

// HPASuperseded implements judge.HPAHooks.
func (m *HPAReaction) HPASuperseded() {
	m.open.Dec()
	m.requests.WithLabelValues("superseded").Inc()
}
