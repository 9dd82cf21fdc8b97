package telemetry

import (
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

// Receive holds the Prometheus metrics of receive; it is the delivery
// checker's checker.Metrics. All methods are safe for concurrent use.
type Receive struct {
	received     *prometheus.CounterVec
	decodeErrors prometheus.Counter
	mismatches   prometheus.Counter
	missing      prometheus.Counter
	duplicates   prometheus.Counter
	outOfOrder   prometheus.Counter
	outOfBounds  prometheus.Counter

	mu     sync.RWMutex
	apps   map[string]prometheus.Counter // received, by app
	limit  int                           // at most this many entries in apps
	others prometheus.Counter            // received for apps beyond the limit: app=""
	warned bool                          // the logger said others is in use
	logger *slog.Logger
}

// NewReceive creates receive's metrics (the check_* ones stay at 0
// without --check) and registers them with reg. At most limit apps get a
// received series of their own; messages of further ones count in one
// series with an empty app label (that is, none), and logger says so once.
// It panics if the metrics are registered already.
func NewReceive(reg prometheus.Registerer, limit int, logger *slog.Logger) *Receive {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Receive{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_messages_received_total",
			Help: "Messages received and decoded, by deployment.",
		}, []string{"app"}),
		decodeErrors: counter("metricsender_decode_errors_total", "Messages that could not be decoded (reported, acked, not printed)."),
		mismatches: counter("metricsender_envelope_mismatch_total",
			"Messages whose metricsender envelope disagrees with their headers (read from the headers, printed)."),
		missing:     counter("metricsender_check_missing_total", "--check: messages missing from a deployment's seq sequence."),
		duplicates:  counter("metricsender_check_duplicates_total", "--check: messages received more than once."),
		outOfOrder:  counter("metricsender_check_out_of_order_total", "--check: messages that arrived after a later seq."),
		outOfBounds: counter("metricsender_check_out_of_bounds_total", "--check: values the config does not allow."),
		apps:        make(map[string]prometheus.Counter),
		limit:       limit,
		logger:      logger,
	}
	reg.MustRegister(m.received, m.decodeErrors, m.mismatches, m.missing, m.duplicates, m.outOfOrder, m.outOfBounds)
	return m
}

// Received counts one decoded message of app. The name comes from the
// wire: one that is not UTF-8 is counted under its valid form (a label
// value must be UTF-8, and client_golang panics on one that is not).
func (m *Receive) Received(app string) {
	if !utf8.ValidString(app) {
		app = strings.ToValidUTF8(app, "\uFFFD")
	}
	m.mu.RLock()
	c, ok := m.apps[app]
	m.mu.RUnlock()
	if !ok {
		c = m.add(app)
	}
	c.Inc()
}

// add returns the counter of an app not seen yet: its own while fewer
// than limit apps have one, else the shared one.
func (m *Receive) add(app string) prometheus.Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.apps[app]; ok {
		return c
	}
	if len(m.apps) < m.limit {
		c := m.received.WithLabelValues(app)
		m.apps[app] = c
		return c
	}
	if m.others == nil {
		m.others = m.received.WithLabelValues("")
	}
	if !m.warned {
		m.warned = true
		m.logger.Warn("more deployments than --app-metrics-limit: the messages of the others are counted in metricsender_messages_received_total without an app label",
			"limit", m.limit, "first_over", app)
	}
	return m.others
}

// Known shows the received series of cfg's deployments (--config) at 0
// from the start, so rate() sees a deployment's first message: the first
// limit of them in the config's order, and, when there are more, the one
// without the app label that their messages will count in. A nil cfg
// knows none: without a config, names come only from the wire.
func (m *Receive) Known(cfg *generator.Config) {
	if cfg == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range cfg.Deployments {
		switch _, ok := m.apps[d.Name]; {
		case ok:
		case len(m.apps) < m.limit:
			m.apps[d.Name] = m.received.WithLabelValues(d.Name)
		case m.others == nil:
			m.others = m.received.WithLabelValues("")
		}
	}
}

// DecodeError counts one message that could not be decoded.
func (m *Receive) DecodeError() { m.decodeErrors.Inc() }

// EnvelopeMismatch counts one message whose envelope disagrees with its headers.
func (m *Receive) EnvelopeMismatch() { m.mismatches.Inc() }

// CheckMissing counts n messages --check found missing.
func (m *Receive) CheckMissing(n int) { m.missing.Add(float64(n)) }

// CheckDuplicate counts one duplicate --check found.
func (m *Receive) CheckDuplicate() { m.duplicates.Inc() }

// CheckOutOfOrder counts one message --check found out of order.
func (m *Receive) CheckOutOfOrder() { m.outOfOrder.Inc() }

// CheckOutOfBounds counts one value --check found outside the config.
func (m *Receive) CheckOutOfBounds() { m.outOfBounds.Inc() }
