package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/feedback"
)

// Feedback counts the bus source's messages; it implements
// feedback.Counter. Safe for concurrent use.
type Feedback struct {
	received prometheus.Counter
	errors   *prometheus.CounterVec
}

var _ feedback.Counter = (*Feedback)(nil)

// NewFeedback registers the bus feedback counters with reg, every
// reason showing 0 from the start.
func NewFeedback(reg prometheus.Registerer) *Feedback {
	m := &Feedback{
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "metricsender_feedback_received_total",
			Help: "Feedback messages taken from the bus (--feedback bus), recorded or not.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_feedback_errors_total",
			Help: "Feedback messages from the bus that changed nothing, by reason: decode, unknown_app, bad_value, empty.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.received, m.errors)
	for _, r := range feedback.Reasons {
		m.errors.WithLabelValues(string(r))
	}
	return m
}

// Received implements feedback.Counter.
func (m *Feedback) Received() { m.received.Inc() }

// Ignored implements feedback.Counter.
func (m *Feedback) Ignored(r feedback.Reason) {
	m.errors.WithLabelValues(ReasonLabel(string(r))).Inc()
}
