package telemetry

import "github.com/prometheus/client_golang/prometheus"

// RegisterLiveStreams registers metricsender_live_streams: the live page's
// event streams connected now (streams, read at scrape time), so an
// operator sees whether anyone watches, and a benchmark when its browser
// has connected.
func RegisterLiveStreams(reg prometheus.Registerer, streams func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "metricsender_live_streams",
		Help: "Event streams of the live page (GET /v1/events: browser tabs on it) connected now; while 0 the page keeps nothing.",
	}, func() float64 { return float64(streams()) }))
}
