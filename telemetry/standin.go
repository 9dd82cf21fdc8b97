package telemetry

import "github.com/prometheus/client_golang/prometheus"

// Standin holds the stand-in operator's own counters (metricsender
// operator), under metricsender_standin_; it implements standin.Counter.
// Safe for concurrent use.
type Standin struct {
	requests, missed, published, publishErrors, unreadable prometheus.Counter
}

// NewStandin registers the stand-in operator's counters on reg.
func NewStandin(reg prometheus.Registerer) *Standin {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "metricsender_standin_" + name, Help: help})
		reg.MustRegister(c)
		return c
	}
	return &Standin{
		requests:      counter("requests_total", "Requests (Metrics.* messages) read."),
		missed:        counter("missed_total", "Requests ignored on purpose (--miss)."),
		published:     counter("answers_published_total", "Allocation.* messages published."),
		publishErrors: counter("publish_errors_total", "Allocation.* messages that could not be published."),
		unreadable:    counter("unreadable_total", "Messages that could not be decoded."),
	}
}

func (m *Standin) Request()       { m.requests.Inc() }
func (m *Standin) Missed()        { m.missed.Inc() }
func (m *Standin) Published()     { m.published.Inc() }
func (m *Standin) PublishFailed() { m.publishErrors.Inc() }
func (m *Standin) Unreadable()    { m.unreadable.Inc() }
