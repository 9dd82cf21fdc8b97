package telemetry

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/generator"
)

// appSeries is what one deployment's series hold: its published and
// unroutable counts and the last numeric value of each metric. Its
// counters show from the start at 0 (show), so rate() sees the first
// message; last_value shows once the deployment sent a number.
type appSeries struct {
	published, unroutable atomic.Uint64

	// Guarded by appCollector.mu (write lock to change, read lock to read).
	// hidden: a reload removed the deployment. Its series are gone from
	// the scrape; a late confirmation still counts here, unseen, so it
	// cannot bring a removed deployment's series back.
	hidden bool
	names  []string  // the metrics of the deployment's last event, in order
	values []float64 // values[i]: the last value of names[i], if has[i]
	has    []bool    // names[i] had a numeric value
}

// appCollector exports the per-deployment series (published and
// unroutable by app, last_value by app and metric) from plain numbers
// kept per deployment, built into metrics only when scraped: a labelled
// child of a client_golang vector costs ~500 bytes, 300k of them were
// ~220 MiB for 100k deployments.
type appCollector struct {
	publishedDesc, unroutableDesc, lastValueDesc *prometheus.Desc

	mu   sync.RWMutex
	apps map[string]*appSeries // by deployment name
}

// The counters that are per deployment or totals (--app-metrics-limit)
// keep one name either way, so a sum() over them reads the same.
const (
	publishedName  = "metricsender_messages_published_total"
	publishedHelp  = "Messages accepted by the broker, each once (confirmed and routed, with confirms on)"
	unroutableName = "metricsender_unroutable_total"
	unroutableHelp = "Messages the broker returned because no queue was bound"
)

func newAppCollector() *appCollector {
	return &appCollector{
		publishedDesc:  prometheus.NewDesc(publishedName, publishedHelp+", by deployment.", []string{"app"}, nil),
		unroutableDesc: prometheus.NewDesc(unroutableName, unroutableHelp+", by deployment.", []string{"app"}, nil),
		lastValueDesc: prometheus.NewDesc("metricsender_last_value",
			"The last value sent, in base units (200m -> 0.2, 128Mi -> 134217728); none for non-numeric values.", []string{"app", "metric"}, nil),
		apps: make(map[string]*appSeries),
	}
}

// series returns app's entry, creating it on first sight.
func (c *appCollector) series(app string) *appSeries {
	c.mu.RLock()
	s := c.apps[app]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seriesLocked(app)
}

// seriesLocked is series for a caller that holds c.mu for writing.
func (c *appCollector) seriesLocked(app string) *appSeries {
	s := c.apps[app]
	if s == nil {
		s = &appSeries{}
		c.apps[app] = s
	}
	return s
}

func (c *appCollector) published(app string, n int) {
	c.series(app).published.Add(uint64(n))
}

func (c *appCollector) unroutable(app string) {
	c.series(app).unroutable.Add(1)
}

// observe records the last values of a tick's events. A metric a
// deployment no longer has (after a reload) loses its series here. A
// removed deployment's tick that was on its way during the reload changes
// nothing.
func (c *appCollector) observe(events []generator.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range events {
		ev := &events[i]
		s := c.seriesLocked(ev.App)
		if s.hidden {
			continue
		}
		if !sameNames(s.names, ev.Metrics) {
			s.rename(ev.Metrics)
		}
		for j := range ev.Metrics {
			if v := &ev.Metrics[j].Value; v.HasNum {
				s.values[j], s.has[j] = v.Num, true
			}
		}
	}
}

// rename makes s's values follow the metrics ms (first sight, or a reload
// changed them), keeping the values of metrics that remain.
func (s *appSeries) rename(ms []generator.Metric) {
	old := make(map[string]float64, len(s.names))
	for i, name := range s.names {
		if s.has[i] {
			old[name] = s.values[i]
		}
	}
	s.names = make([]string, len(ms))
	s.values = make([]float64, len(ms))
	s.has = make([]bool, len(ms))
	for i := range ms {
		s.names[i] = ms[i].Name
		s.values[i], s.has[i] = old[ms[i].Name]
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

// show exports apps' series from now on, their counters at 0 for a
// deployment new to the run: the configured ones at start, those a reload
// added. One a reload removed and brings back continues its counts, as
// the schedule continues its seq.
func (c *appCollector) show(apps []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, app := range apps {
		c.seriesLocked(app).hidden = false
	}
}

// forget takes apps' series (counters and last values) off the scrape:
// a reload removed them. The run's totals (the stopped line) keep what
// they sent.
func (c *appCollector) forget(apps []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, app := range apps {
		if s := c.apps[app]; s != nil {
			s.hidden = true
			s.names, s.values, s.has = nil, nil, nil
		}
	}
}

// Describe implements prometheus.Collector.
func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.publishedDesc
	ch <- c.unroutableDesc
	ch <- c.lastValueDesc
}

// Collect implements prometheus.Collector. It copies the numbers under
// the lock and builds the metrics after: a scrape of many series takes a
// while, and a waiting tick (observe) would otherwise hold up every
// Published behind it.
func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		app                   string
		published, unroutable uint64
		names                 []string // replaced, never changed in place
		values                []float64
		has                   []bool
	}
	c.mu.RLock()
	rows := make([]row, 0, len(c.apps))
	for app, s := range c.apps {
		if s.hidden {
			continue
		}
		rows = append(rows, row{
			app: app, published: s.published.Load(), unroutable: s.unroutable.Load(),
			names: s.names, values: slices.Clone(s.values), has: slices.Clone(s.has),
		})
	}
	c.mu.RUnlock()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(c.publishedDesc, prometheus.CounterValue, float64(r.published), r.app)
		ch <- prometheus.MustNewConstMetric(c.unroutableDesc, prometheus.CounterValue, float64(r.unroutable), r.app)
		for i, name := range r.names {
			if r.has[i] {
				ch <- prometheus.MustNewConstMetric(c.lastValueDesc, prometheus.GaugeValue, r.values[i], r.app, name)
			}
		}
	}
}
