package telemetry

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/promtest"
	"github.com/labsea/metricsender/transport"
)

// Send is the transport's hooks; telemetry itself imports no transport
// (nor, through it, a broker client), so the check lives here.
var _ transport.PublishHooks = (*Send)(nil)

// metricsPath is where the tests serve reg, as the app does.
const metricsPath = "/metrics"

// startServer serves reg on metricsPath on a free local port until the
// test ends, as the app's HTTP server does.
func startServer(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s.URL
}

func num(text string, n float64) generator.Value {
	return generator.Value{Text: text, Num: n, HasNum: true}
}

func TestSendMetricsExposition(t *testing.T) {
	reg := NewRegistry()
	m := NewSend(reg, true)
	base := startServer(t, reg)

	m.Published("Metrics.web-0", 3)
	m.Published("Metrics.web-0", 1)
	m.Published("Metrics.web-1", 2)
	m.PublishFailed("timeout")
	m.PublishFailed("timeout")
	m.PublishFailed("dial amqp://guest:s3cret@broker:5672/: refused") // an error text must not become a label
	m.PublishDuration(3 * time.Millisecond)
	m.Dropped(5, transport.DropBufferFull)
	m.Unroutable("Metrics.web-1")
	m.Connection(true)
	m.Reload(true)
	m.Reload(false)
	m.Reload(false)
	m.ObserveTick(20*time.Millisecond, []generator.Event{
		{App: "web-0", Metrics: []generator.Metric{
			{Name: "cpu", Value: num("100m", 0.1)},
			{Name: "memory", Value: num("64Mi", 67108864)},
			{Name: "tier", Value: generator.Value{Text: "gold"}},
		}},
	})
	// A later tick overwrites the last values; a negative lag counts as 0.
	m.ObserveTick(-time.Millisecond, []generator.Event{
		{App: "web-0", Metrics: []generator.Metric{
			{Name: "cpu", Value: num("200m", 0.2)},
			{Name: "memory", Value: num("128Mi", 134217728)},
			{Name: "tier", Value: generator.Value{Text: "gold"}},
		}},
		{App: "web-1", Metrics: []generator.Metric{{Name: "cpu", Value: num("1.5", 1.5)}}},
	})

	fams, body := promtest.Scrape(t, base)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
		absent bool
	}{
		{name: "metricsender_messages_published_total", labels: map[string]string{"app": "web-0"}, want: 4},
		{name: "metricsender_messages_published_total", labels: map[string]string{"app": "web-1"}, want: 2},
		{name: "metricsender_publish_errors_total", labels: map[string]string{"reason": "timeout"}, want: 2},
		{name: "metricsender_publish_errors_total", labels: map[string]string{"reason": "other"}, want: 1},
		{name: "metricsender_publish_duration_seconds", labels: map[string]string{}, want: 1},
		{name: "metricsender_tick_lag_seconds", labels: map[string]string{}, want: 2},
		{name: "metricsender_last_value", labels: map[string]string{"app": "web-0", "metric": "cpu"}, want: 0.2},
		{name: "metricsender_last_value", labels: map[string]string{"app": "web-0", "metric": "memory"}, want: 134217728},
		{name: "metricsender_last_value", labels: map[string]string{"app": "web-1", "metric": "cpu"}, want: 1.5},
		{name: "metricsender_last_value", labels: map[string]string{"app": "web-0", "metric": "tier"}, absent: true},
		{name: "metricsender_config_reloads_total", labels: map[string]string{"result": "success"}, want: 1},
		{name: "metricsender_config_reloads_total", labels: map[string]string{"result": "failure"}, want: 2},
		{name: "metricsender_dropped_messages_total", labels: map[string]string{}, want: 5},
		{name: "metricsender_unroutable_total", labels: map[string]string{"app": "web-1"}, want: 1},
		{name: "metricsender_broker_connected", labels: map[string]string{}, want: 1},
		{name: "go_goroutines", labels: map[string]string{}, want: -1},             // -1: present, any value
		{name: "process_cpu_seconds_total", labels: map[string]string{}, want: -1}, // Linux: the process collector works
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s%v", tt.name, tt.labels), func(t *testing.T) {
			got, ok := promtest.Sample(fams, tt.name, tt.labels)
			switch {
			case tt.absent && ok:
				t.Errorf("series present with %v, want none", got)
			case tt.absent:
			case !ok:
				t.Errorf("series missing")
			case tt.want >= 0 && got != tt.want:
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("no secret in the exposition", func(t *testing.T) {
		if strings.Contains(body, "s3cret") || strings.Contains(body, "amqp://") {
			t.Errorf("/metrics shows a URI or password:\n%s", body)
		}
	})
	t.Run("disconnect", func(t *testing.T) {
		m.Connection(false)
		fams, _ := promtest.Scrape(t, base)
		if got, _ := promtest.Sample(fams, "metricsender_broker_connected", map[string]string{}); got != 0 || m.BrokerConnected() {
			t.Errorf("broker_connected = %v (BrokerConnected %v), want 0", got, m.BrokerConnected())
		}
	})
}

func TestSendMetricsForget(t *testing.T) {
	reg := NewRegistry()
	m := NewSend(reg, true)
	base := startServer(t, reg)
	m.ObserveTick(0, []generator.Event{
		{App: "a", Metrics: []generator.Metric{{Name: "cpu", Value: num("1", 1)}}},
		{App: "b", Metrics: []generator.Metric{{Name: "cpu", Value: num("2", 2)}}},
	})
	m.Forget([]string{"a"})
	fams, _ := promtest.Scrape(t, base)
	if _, ok := promtest.Sample(fams, publishedName, map[string]string{"app": "a"}); ok {
		t.Errorf("forgotten app a still has a published series")
	}
	if v, ok := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "a", "metric": "cpu"}); ok {
		t.Errorf("forgotten app a still has last_value %v", v)
	}
	if v, _ := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "b", "metric": "cpu"}); v != 2 {
		t.Errorf("app b last_value = %v, want 2", v)
	}
	// A forgotten app that a reload brings back gets its series again;
	// its ticks before that do not (a tick on its way during the reload).
	m.ObserveTick(0, []generator.Event{{App: "a", Metrics: []generator.Metric{{Name: "cpu", Value: num("9", 9)}}}})
	fams, _ = promtest.Scrape(t, base)
	if v, ok := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "a", "metric": "cpu"}); ok {
		t.Errorf("forgotten app a got last_value %v back from a tick alone", v)
	}
	m.apps.show([]string{"a"})
	m.ObserveTick(0, []generator.Event{{App: "a", Metrics: []generator.Metric{{Name: "cpu", Value: num("3", 3)}}}})
	fams, _ = promtest.Scrape(t, base)
	if v, _ := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "a", "metric": "cpu"}); v != 3 {
		t.Errorf("app a back: last_value = %v, want 3", v)
	}
	// A reload took cpu from b and gave it mem: cpu's series goes at b's next tick.
	m.ObserveTick(0, []generator.Event{{App: "b", Metrics: []generator.Metric{{Name: "mem", Value: num("4", 4)}}}})
	fams, _ = promtest.Scrape(t, base)
	if v, ok := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "b", "metric": "cpu"}); ok {
		t.Errorf("metric cpu removed from b still has last_value %v", v)
	}
	if v, _ := promtest.Sample(fams, "metricsender_last_value", map[string]string{"app": "b", "metric": "mem"}); v != 4 {
		t.Errorf("b mem last_value = %v, want 4", v)
	}
}

func TestReceiveMetricsExposition(t *testing.T) {
	reg := NewRegistry()
	m := NewReceive(reg, 10, slog.New(slog.DiscardHandler))
	base := startServer(t, reg)
	m.Received("web-0")
	m.Received("web-0")
	m.Received("web-1")
	m.Received("web-\xff") // not UTF-8, from the wire: no panic, counted under its valid form
	m.DecodeError()
	m.EnvelopeMismatch()
	m.EnvelopeMismatch()
	m.CheckMissing(3)
	m.CheckDuplicate()
	m.CheckOutOfOrder()
	m.CheckOutOfBounds()
	fams, _ := promtest.Scrape(t, base)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"metricsender_messages_received_total", map[string]string{"app": "web-0"}, 2},
		{"metricsender_messages_received_total", map[string]string{"app": "web-1"}, 1},
		{"metricsender_messages_received_total", map[string]string{"app": "web-\uFFFD"}, 1},
		{"metricsender_decode_errors_total", map[string]string{}, 1},
		{"metricsender_envelope_mismatch_total", map[string]string{}, 2},
		{"metricsender_check_missing_total", map[string]string{}, 3},
		{"metricsender_check_duplicates_total", map[string]string{}, 1},
		{"metricsender_check_out_of_order_total", map[string]string{}, 1},
		{"metricsender_check_out_of_bounds_total", map[string]string{}, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s%v", tt.name, tt.labels), func(t *testing.T) {
			if got, ok := promtest.Sample(fams, tt.name, tt.labels); !ok || got != tt.want {
				t.Errorf("= %v (present %v), want %v", got, ok, tt.want)
			}
		})
	}
}

func TestReasonLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"timeout", "timeout"},
		{"not_connected", "not_connected"},
		{"nack", "nack"},
		{"", "other"},
		{"Timeout", "other"},
		{"dial tcp: refused", "other"},
		{"amqp://u:p@h", "other"},
		{strings.Repeat("a", 33), "other"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ReasonLabel(tt.in); got != tt.want {
				t.Errorf("ReasonLabel(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSendMetricsConcurrent runs every method at once, for the race detector.
func TestSendMetricsConcurrent(t *testing.T) {
	m := NewSend(prometheus.NewRegistry(), true)
	events := tickEvents(50, 3)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				m.Published(fmt.Sprintf("Metrics.app-%d", (i+g)%50), 1)
				m.PublishFailed("timeout")
				m.Unroutable("Metrics.app-1")
				m.Connection(i%2 == 0)
				if g == 0 {
					m.ObserveTick(time.Millisecond, events)
				}
				if g == 1 && i%50 == 0 {
					m.Forget([]string{"app-3"})
				}
			}
		})
	}
	wg.Wait()
}

// tickEvents is one tick of n deployments with k numeric metrics each.
func tickEvents(n, k int) []generator.Event {
	events := make([]generator.Event, n)
	for i := range events {
		ms := make([]generator.Metric, k)
		for j := range ms {
			ms[j] = generator.Metric{Name: fmt.Sprintf("m%d", j), Value: num("1", 1)}
		}
		events[i] = generator.Event{App: fmt.Sprintf("app-%d", i), Metrics: ms}
	}
	return events
}

// BenchmarkObserveTick: one tick of 100k deployments with 3 metrics, after
// the first (which creates the series).
func BenchmarkObserveTick(b *testing.B) {
	m := NewSend(prometheus.NewRegistry(), true)
	events := tickEvents(100_000, 3)
	m.ObserveTick(0, events)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.ObserveTick(time.Millisecond, events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(events)), "ns/event")
}

// BenchmarkPublished: the transport's per-message call, from many goroutines.
func BenchmarkPublished(b *testing.B) {
	m := NewSend(prometheus.NewRegistry(), true)
	topics := make([]string, 1000)
	for i := range topics {
		topics[i] = fmt.Sprintf("Metrics.app-%d", i)
		m.Published(topics[i], 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Published(topics[i%len(topics)], 1)
			i++
		}
	})
}

// Above --app-metrics-limit the series labelled by deployment are replaced
// by totals under the same names, and last_value is not exported: a sum()
// over them reads the same either way.
func TestSendMetricsTotalsOnly(t *testing.T) {
	reg := NewRegistry()
	m := NewSend(reg, false)
	base := startServer(t, reg)
	m.Published("Metrics.web-0", 3)
	m.Published("Metrics.web-1", 2)
	m.Unroutable("Metrics.web-1")
	m.Unroutable("Metrics.web-2")
	m.ObserveTick(time.Millisecond, []generator.Event{
		{App: "web-0", Metrics: []generator.Metric{{Name: "cpu", Value: num("100m", 0.1)}}},
	})
	m.Forget([]string{"web-0"})

	fams, _ := promtest.Scrape(t, base)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"metricsender_messages_published_total", 5},
		{"metricsender_unroutable_total", 2},
		{"metricsender_tick_lag_seconds", 1},
	} {
		if n := len(fams[tc.name].GetMetric()); n != 1 {
			t.Errorf("%s: %d series, want 1 (a total)", tc.name, n)
		}
		if got, ok := promtest.Sample(fams, tc.name, map[string]string{}); !ok || got != tc.want {
			t.Errorf("%s = %v (present %v), want %v without labels", tc.name, got, ok, tc.want)
		}
	}
	if fam, ok := fams["metricsender_last_value"]; ok {
		t.Errorf("last_value exported with per-deployment series off: %v", fam)
	}
}

// The app label's values come from the wire: past the limit, further apps
// share one series without the label, and the receiver says so once.
func TestReceiveMetricsAppLimit(t *testing.T) {
	reg := NewRegistry()
	var logs strings.Builder
	m := NewReceive(reg, 2, slog.New(slog.NewTextHandler(&logs, nil)))
	base := startServer(t, reg)
	for _, app := range []string{"a", "b", "c", "a", "d", "c", "b"} {
		m.Received(app)
	}
	m.Received("x\xff") // not UTF-8, from a hostile peer: counted, no panic
	fams, _ := promtest.Scrape(t, base)
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"app": "a"}, 2},
		{map[string]string{"app": "b"}, 2},
		{map[string]string{"app": ""}, 4}, // c, d, c, x: no app label (Prometheus reads an empty value as none)
	} {
		if got, ok := promtest.Sample(fams, "metricsender_messages_received_total", tc.labels); !ok || got != tc.want {
			t.Errorf("received%v = %v (present %v), want %v", tc.labels, got, ok, tc.want)
		}
	}
	if n := len(fams["metricsender_messages_received_total"].GetMetric()); n != 3 {
		t.Errorf("%d received series, want 3 (a, b and the rest)", n)
	}
	if n := strings.Count(logs.String(), "more deployments than --app-metrics-limit"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
}
