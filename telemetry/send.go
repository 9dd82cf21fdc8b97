package telemetry

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
)

// NewRegistry returns a registry of the process's own (never the global
// default one, so tests and commands do not share state) holding the Go
// runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Send holds the Prometheus metrics of send. It implements
// transport.PublishHooks and is told about ticks (ObserveTick) and config
// reloads (Reload, Applied). Label values come only from deployment and
// metric names, fixed reason words and results: never from a URI. All
// methods are safe for concurrent use.
type Send struct {
	// apps exports published and unroutable by deployment and last_value;
	// nil when they are off (see --app-metrics-limit), and then
	// publishedAll and unroutableAll count for all deployments.
	apps            *appCollector
	publishedAll    prometheus.Counter
	unroutableAll   prometheus.Counter
	publishErrors   *prometheus.CounterVec
	publishDuration prometheus.Histogram
	tickLag         prometheus.Histogram
	reloads         *prometheus.CounterVec
	dropped         prometheus.Counter
	exprErrors      prometheus.Counter
	state           *stateCollector // nil when per-deployment series are off
	connected       prometheus.Gauge
	isConnected     atomic.Bool
	lastLag         atomic.Int64 // nanoseconds, the last tick's
	// known is what the series shown at 0 from the start follow
	// (known.go).
	known knownSeries
}

// NewSend creates send's metrics and registers them with reg:
// per deployment (perApp) or as totals (see Send.apps). It panics
// if they are registered already (a programming error, as with
// prometheus.MustRegister).
func NewSend(reg prometheus.Registerer, perApp bool) *Send {
	m := &Send{
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_publish_errors_total",
			Help: "Failed publish attempts (a failed message may be retried), by reason.",
		}, []string{"reason"}),
		publishDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "metricsender_publish_duration_seconds",
			Help:    "Duration of one publish call.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 100us .. 26s
		}),
		tickLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "metricsender_tick_lag_seconds",
			Help:    "How late each tick started against its place on the time grid.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. 65s
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_config_reloads_total",
			Help: "Config reloads, by result (success or failure; a failure keeps the running config).",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "metricsender_dropped_messages_total",
			Help: "Messages given up: outage buffer overflow, left over at shutdown, broker unreachable past --connect-timeout at the end of a --count run, or a failed publish.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "metricsender_broker_connected",
			Help: "1 while the broker connection is up, else 0.",
		}),
		exprErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "metricsender_expr_errors_total",
			Help: "Expression evaluations that failed at run time (the metric sent its previous value).",
		}),
	}
	reg.MustRegister(m.publishErrors, m.publishDuration, m.tickLag, m.reloads, m.dropped, m.connected, m.exprErrors)
	if perApp {
		m.apps = newAppCollector()
		m.state = newStateCollector()
		reg.MustRegister(m.apps, m.state)
	} else {
		const totals = " (all deployments: per-deployment series are off, see --app-metrics-limit)"
		m.publishedAll = prometheus.NewCounter(prometheus.CounterOpts{Name: publishedName, Help: publishedHelp + totals})
		m.unroutableAll = prometheus.NewCounter(prometheus.CounterOpts{Name: unroutableName, Help: unroutableHelp + totals})
		reg.MustRegister(m.publishedAll, m.unroutableAll)
	}
	// Both results show from the start, so a rate() over them works at once;
	// so do the publish failure reasons, so an alert or a panel over
	// publish errors reads 0, not nothing, while all is well.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	for _, reason := range publishFailReasons {
		m.publishErrors.WithLabelValues(reason)
	}
	return m
}

// publishFailReasons are the reasons the transports give PublishFailed
// (amqp: closed, timeout, nack, error, and unroutable inside the rebind
// window; nats: closed, timeout). Others still count, under their own
// word or "other"; these show at 0 from the start.
var publishFailReasons = []string{"closed", "timeout", "nack", "error", "unroutable"}

// appOf is the deployment name of a topic: Metrics.web-0 -> web-0.
func appOf(topic string) string { return strings.TrimPrefix(topic, codec.TopicPrefix) }

// Published implements transport.PublishHooks.
func (m *Send) Published(topic string, n int) {
	if m.apps == nil {
		m.publishedAll.Add(float64(n))
		return
	}
	m.apps.published(appOf(topic), n)
}

// PublishFailed implements transport.PublishHooks. A reason that is not a short
// word of [a-z0-9_] is counted as "other": a label must not carry an error
// text (which could hold a URI) nor grow without bound.
func (m *Send) PublishFailed(reason string) {
	m.publishErrors.WithLabelValues(ReasonLabel(reason)).Inc()
}

// ReasonLabel keeps reason when it is a short stable word of [a-z0-9_],
// else it is "other": the value of every reason label this process
// exports goes through it.
func ReasonLabel(reason string) string {
	if reason == "" || len(reason) > 32 {
		return "other"
	}
	for i := 0; i < len(reason); i++ {
		c := reason[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "other"
		}
	}
	return reason
}

// PublishDuration implements transport.PublishHooks.
func (m *Send) PublishDuration(d time.Duration) { m.publishDuration.Observe(d.Seconds()) }

// Dropped implements transport.PublishHooks.
func (m *Send) Dropped(n int, reason string) {
	m.dropped.Add(float64(n))
}

// Unroutable implements transport.PublishHooks.
func (m *Send) Unroutable(topic string) {
	if m.apps == nil {
		m.unroutableAll.Inc()
		return
	}
	m.apps.unroutable(appOf(topic))
}

// Connection implements transport.PublishHooks.
func (m *Send) Connection(up bool) {
	m.isConnected.Store(up)
	if up {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}

// BrokerConnected reports what the last Connection call said (false before
// any), for a readiness check.
func (m *Send) BrokerConnected() bool { return m.isConnected.Load() }

// ObserveTick records a tick that started lag after its grid time and the
// values of its events (the last value of each numeric metric). A metric a
// deployment no longer has (after a reload) loses its last_value series the
// next time the deployment ticks. events may be reused by the caller once
// it returns. Allocation-free once every deployment has been seen.
func (m *Send) ObserveTick(lag time.Duration, events []generator.Event) {
	m.tickLag.Observe(max(lag, 0).Seconds())
	m.lastLag.Store(int64(max(lag, 0)))
	m.ObserveValues(events)
}

// LastTickLag is the lag ObserveTick was last given (0 before any).
func (m *Send) LastTickLag() time.Duration { return time.Duration(m.lastLag.Load()) }

// ObserveValues records the values of events, a later part of a tick
// whose first part went to ObserveTick.
func (m *Send) ObserveValues(events []generator.Event) {
	if m.apps != nil {
		m.apps.observe(events)
	}
}

// Forget takes the series of apps (deployments a reload removed) off the
// scrape: published, unroutable and last_value, so it stops showing a
// deployment nobody sends any more.
func (m *Send) Forget(apps []string) {
	if m.apps != nil && len(apps) > 0 {
		m.apps.forget(apps)
	}
}

// WatchState makes states (the schedule's ObservedStates) the source of
// the observed_replicas and observed_allocation series; a no-op while
// per-deployment series are off.
func (m *Send) WatchState(states func() []generator.AppState) {
	if m.state != nil {
		m.state.watch(states)
	}
}

// ExprError counts an expression that failed at run time.
func (m *Send) ExprError() { m.exprErrors.Inc() }

// Reload counts a config reload: ok is success, else failure.
func (m *Send) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
	} else {
		m.reloads.WithLabelValues("failure").Inc()
	}
}
