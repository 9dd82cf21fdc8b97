package app

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// newRegistry returns a registry of this process's own (never the global
// default one, so tests and commands do not share state) holding the Go
// runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// appGauges caches the last_value gauges of one deployment, in the order
// of its metrics (an Event's metrics are sorted by name and the same from
// tick to tick), so a tick costs one map lookup per event, not per metric.
type appGauges struct {
	names  []string
	gauges []prometheus.Gauge // nil until the metric had a numeric value
}

// sendMetrics holds the Prometheus metrics of send. It implements
// transport.Observer and is told about ticks (ObserveTick) and config
// reloads (Reload). Label values come only from deployment and metric
// names, fixed reason words and results: never from a URI. All methods are
// safe for concurrent use.
type sendMetrics struct {
	// perApp: published, unroutable and last_value have one series per
	// deployment; else published and unroutable are process totals and
	// last_value is not exported (see --app-metrics-limit).
	perApp          bool
	publishedAll    prometheus.Counter // !perApp
	unroutableAll   prometheus.Counter // !perApp
	published       *prometheus.CounterVec
	publishErrors   *prometheus.CounterVec
	publishDuration prometheus.Histogram
	tickLag         prometheus.Histogram
	lastValue       *prometheus.GaugeVec
	reloads         *prometheus.CounterVec
	dropped         prometheus.Counter
	unroutable      *prometheus.CounterVec
	connected       prometheus.Gauge
	isConnected     atomic.Bool

	// Children of the vectors, cached on first sight so the hot paths
	// (100k events a tick) build no label slices.
	pubMu  sync.RWMutex
	pubs   map[string]prometheus.Counter // by topic
	lastMu sync.Mutex
	lasts  map[string]*appGauges // by deployment
}

var _ transport.Observer = (*sendMetrics)(nil)

// newSendMetrics creates send's metrics and registers them with reg:
// per deployment (perApp) or as totals (see sendMetrics.perApp). It panics
// if they are registered already (a programming error, as with
// prometheus.MustRegister).
func newSendMetrics(reg prometheus.Registerer, perApp bool) *sendMetrics {
	publishedOpts := prometheus.CounterOpts{
		Name: "metricsender_messages_published_total",
		Help: "Messages accepted by the broker (confirmed, with confirms on), by deployment.",
	}
	unroutableOpts := prometheus.CounterOpts{
		Name: "metricsender_unroutable_total",
		Help: "Messages the broker returned because no queue was bound, by deployment.",
	}
	m := &sendMetrics{
		perApp:    perApp,
		published: prometheus.NewCounterVec(publishedOpts, []string{"app"}),
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
		lastValue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "metricsender_last_value",
			Help: "The last value sent, in base units (200m -> 0.2, 128Mi -> 134217728); none for non-numeric values.",
		}, []string{"app", "metric"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metricsender_config_reloads_total",
			Help: "Config reloads, by result (success or failure; a failure keeps the running config).",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "metricsender_dropped_messages_total",
			Help: "Messages given up: outage buffer overflow, or left over at shutdown.",
		}),
		unroutable: prometheus.NewCounterVec(unroutableOpts, []string{"app"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "metricsender_broker_connected",
			Help: "1 while the broker connection is up, else 0.",
		}),
		pubs:  make(map[string]prometheus.Counter),
		lasts: make(map[string]*appGauges),
	}
	reg.MustRegister(m.publishErrors, m.publishDuration, m.tickLag, m.reloads, m.dropped, m.connected)
	if perApp {
		reg.MustRegister(m.published, m.unroutable, m.lastValue)
	} else {
		const totals = " (all deployments: per-deployment series are off, see --app-metrics-limit)"
		publishedOpts.Help = strings.TrimSuffix(publishedOpts.Help, ", by deployment.") + totals
		unroutableOpts.Help = strings.TrimSuffix(unroutableOpts.Help, ", by deployment.") + totals
		m.publishedAll = prometheus.NewCounter(publishedOpts)
		m.unroutableAll = prometheus.NewCounter(unroutableOpts)
		reg.MustRegister(m.publishedAll, m.unroutableAll)
	}
	// Both results show from the start, so a rate() over them works at once.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m
}

// appOf is the deployment name of a topic: Metrics.web-0 -> web-0.
func appOf(topic string) string { return strings.TrimPrefix(topic, codec.TopicPrefix) }

// Published implements transport.Observer.
func (m *sendMetrics) Published(topic string, n int) {
	if !m.perApp {
		m.publishedAll.Add(float64(n))
		return
	}
	m.pubMu.RLock()
	c, ok := m.pubs[topic]
	m.pubMu.RUnlock()
	if !ok {
		m.pubMu.Lock()
		if c, ok = m.pubs[topic]; !ok {
			c = m.published.WithLabelValues(appOf(topic))
			m.pubs[topic] = c
		}
		m.pubMu.Unlock()
	}
	c.Add(float64(n))
}

// PublishFailed implements transport.Observer. A reason that is not a short
// word of [a-z0-9_] is counted as "other": a label must not carry an error
// text (which could hold a URI) nor grow without bound.
func (m *sendMetrics) PublishFailed(reason string) {
	m.publishErrors.WithLabelValues(reasonLabel(reason)).Inc()
}

// reasonLabel keeps reason when it is a short stable word, else "other".
func reasonLabel(reason string) string {
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

// PublishDuration implements transport.Observer.
func (m *sendMetrics) PublishDuration(d time.Duration) { m.publishDuration.Observe(d.Seconds()) }

// Dropped implements transport.Observer.
func (m *sendMetrics) Dropped(n int) { m.dropped.Add(float64(n)) }

// Unroutable implements transport.Observer.
func (m *sendMetrics) Unroutable(topic string) {
	if !m.perApp {
		m.unroutableAll.Inc()
		return
	}
	m.unroutable.WithLabelValues(appOf(topic)).Inc()
}

// Connection implements transport.Observer.
func (m *sendMetrics) Connection(up bool) {
	m.isConnected.Store(up)
	if up {
		m.connected.Set(1)
	} else {
		m.connected.Set(0)
	}
}

// BrokerConnected reports what the last Connection call said (false before
// any), for a readiness check.
func (m *sendMetrics) BrokerConnected() bool { return m.isConnected.Load() }

// ObserveTick records a tick that started lag after its grid time and the
// values of its events (the last value of each numeric metric). A metric a
// deployment no longer has (after a reload) loses its last_value series the
// next time the deployment ticks. events may be reused by the caller once
// it returns. Allocation-free once every deployment has been seen.
func (m *sendMetrics) ObserveTick(lag time.Duration, events []generator.Event) {
	m.tickLag.Observe(max(lag, 0).Seconds())
	if !m.perApp {
		return
	}
	m.lastMu.Lock()
	defer m.lastMu.Unlock()
	for i := range events {
		ev := &events[i]
		ag := m.lasts[ev.App]
		if ag == nil || !sameNames(ag.names, ev.Metrics) {
			ag = m.rebuild(ev, ag)
		}
		for j := range ev.Metrics {
			v := &ev.Metrics[j].Value
			if !v.HasNum {
				continue
			}
			g := ag.gauges[j]
			if g == nil {
				g = m.lastValue.WithLabelValues(ev.App, ag.names[j])
				ag.gauges[j] = g
			}
			g.Set(v.Num)
		}
	}
}

// sameNames tells whether names are the names of ms, in order.
func sameNames(names []string, ms []generator.Metric) bool {
	if len(names) != len(ms) {
		return false
	}
	for i := range ms {
		if names[i] != ms[i].Name {
			return false
		}
	}
	return true
}

// rebuild makes the cache entry of ev's deployment for its current metrics
// (first sight, or a reload changed them), keeping the gauges of metrics
// that remain and deleting the series of those that are gone.
// m.lastMu must be held.
func (m *sendMetrics) rebuild(ev *generator.Event, old *appGauges) *appGauges {
	ag := &appGauges{names: make([]string, len(ev.Metrics)), gauges: make([]prometheus.Gauge, len(ev.Metrics))}
	var kept map[string]prometheus.Gauge // nil on first sight: reads and deletes are no-ops
	if old != nil {
		kept = make(map[string]prometheus.Gauge, len(old.names))
		for i, name := range old.names {
			if old.gauges[i] != nil {
				kept[name] = old.gauges[i]
			}
		}
	}
	for i := range ev.Metrics {
		name := ev.Metrics[i].Name
		ag.names[i] = name
		ag.gauges[i] = kept[name]
		delete(kept, name)
	}
	for name := range kept {
		m.lastValue.DeleteLabelValues(ev.App, name)
	}
	m.lasts[ev.App] = ag
	return ag
}

// Forget deletes the last_value series of apps (deployments a reload
// removed), so the scrape stops showing values nobody sends any more.
// Counters stay: they are totals of the run.
func (m *sendMetrics) Forget(apps []string) {
	if len(apps) == 0 || !m.perApp {
		return
	}
	m.lastMu.Lock()
	defer m.lastMu.Unlock()
	for _, app := range apps {
		ag := m.lasts[app]
		if ag == nil {
			continue
		}
		for i, name := range ag.names {
			if ag.gauges[i] != nil {
				m.lastValue.DeleteLabelValues(app, name)
			}
		}
		delete(m.lasts, app)
	}
}

// Reload counts a config reload: ok is success, else failure.
func (m *sendMetrics) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
	} else {
		m.reloads.WithLabelValues("failure").Inc()
	}
}
