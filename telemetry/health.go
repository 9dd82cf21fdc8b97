package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The gauges alerts need beside the counters: whether the process is
// ready, the grid a tick's lag is measured against, and how long the
// operator under test has left a request unanswered. Each is read at
// scrape time from the state that already decides it, so it cannot
// disagree with /readyz, the schedule or the tracker.

// RegisterReady exports metricsender_ready: 1 while ready says so, else
// 0, asked at each scrape (the app passes /readyz's verdict, so the two
// cannot disagree). It panics if registered already.
func RegisterReady(reg prometheus.Registerer, ready func() bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "metricsender_ready",
		Help: "1 while /readyz answers 200 (config loaded, broker connected and, with --feedback, its source up), else 0.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

// RegisterTickInterval exports metricsender_tick_interval_seconds from
// interval (the schedule's MinInterval), so an alert can compare the tick
// lag with the grid it is measured on.
func RegisterTickInterval(reg prometheus.Registerer, interval func() time.Duration) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "metricsender_tick_interval_seconds",
		Help: "The shortest tick interval of the deployments this sender sends (after reloads and --interval): the grid metricsender_tick_lag_seconds is measured against.",
	}, func() float64 { return interval().Seconds() }))
}

// RegisterOldestOpen exports
// metricsender_operator_oldest_open_request_seconds: how long the oldest
// request still open has waited at scrape time (now minus its time), 0
// when none is open.
func RegisterOldestOpen(reg prometheus.Registerer, oldest func() (time.Time, bool), now func() time.Time) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "metricsender_operator_oldest_open_request_seconds",
		Help: "With --feedback: how long the oldest request the operator has not applied yet has waited; 0 when none is open.",
	}, func() float64 {
		at, ok := oldest()
		if !ok {
			return 0
		}
		return max(now().Sub(at), 0).Seconds()
	}))
}
