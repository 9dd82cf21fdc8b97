package app

import (
	"context"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/internal/promtest"
	"github.com/labsea/metricsender/telemetry"
)

// A reload that adds a deployment shows it at 0; one it removes goes away
// (counters and last values) and stays gone however late its messages are
// confirmed; one that comes back continues its counts, as its seq does. A
// metric the reload makes able to open a request shows in the operator's
// series.
func TestSendMetricsFollowReloads(t *testing.T) {
	two := "interval: 1h\ndeployments:\n  - name: app1\n    metrics: {cpu: [1]}\n  - name: app2\n    metrics: {cpu: [2]}\n"
	swapped := "interval: 1h\ndeployments:\n  - name: app1\n    metrics: {cpu: [1]}\n  - name: app3\n    metrics: {replicas: [3]}\n"
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, path, two)
	cfg, sched := loadSchedule(t, path, generator.ScheduleOptions{Seed: 1})
	reg := newRegistry()
	m := newSendMetrics(reg, true)
	m.Configured(cfg, generator.Shard{})
	m.Judged(telemetry.NewReaction(reg))
	base := startServer(t, reg, nil, nil)
	b, _ := sched.Next()
	m.ObserveTick(0, b.Events)
	m.Published("Metrics.app1", 1)
	m.Published("Metrics.app2", 2)
	m.Unroutable("Metrics.app2")
	rl := newReloader(path, cfg, sched, m, nil)

	check := func(t *testing.T, published, unroutable map[string]float64, lastValues int, requests []string) {
		t.Helper()
		fams, _ := promtest.Scrape(t, base)
		if got := promtest.SeriesOf(fams, promtest.PublishedName); !maps.Equal(got, published) {
			t.Errorf("published = %v, want %v", got, published)
		}
		if got := promtest.SeriesOf(fams, promtest.UnroutableName); !maps.Equal(got, unroutable) {
			t.Errorf("unroutable = %v, want %v", got, unroutable)
		}
		if got := len(promtest.SeriesOf(fams, "metricsender_last_value")); got != lastValues {
			t.Errorf("%d last_value series, want %d", got, lastValues)
		}
		if got := promtest.SeriesOf(fams, "metricsender_operator_requests_total"); !maps.Equal(got, promtest.RequestZeros(requests...)) {
			t.Errorf("operator_requests_total = %v, want %v", got, promtest.RequestZeros(requests...))
		}
	}
	check(t, map[string]float64{"app=app1": 1, "app=app2": 2}, map[string]float64{"app=app1": 0, "app=app2": 1}, 2, []string{"cpu"})

	writeFile(t, path, swapped)
	rl.Reload()
	t.Run("app3 added, app2 removed", func(t *testing.T) {
		check(t, map[string]float64{"app=app1": 1, "app=app3": 0}, promtest.AppZeros("app1", "app3"), 1, []string{"cpu", "replicas"})
	})
	// A message of app2 in flight during the reload, confirmed after it;
	// and its tick, built before the reload, observed after.
	m.Published("Metrics.app2", 1)
	m.Unroutable("Metrics.app2")
	m.ObserveTick(0, []generator.Event{{App: "app2", Metrics: []generator.Metric{{Name: "cpu", Value: num("2", 2)}}}})
	t.Run("a late message of app2 does not bring it back", func(t *testing.T) {
		check(t, map[string]float64{"app=app1": 1, "app=app3": 0}, promtest.AppZeros("app1", "app3"), 1, []string{"cpu", "replicas"})
	})

	writeFile(t, path, two)
	rl.Reload()
	t.Run("app2 back, app3 removed", func(t *testing.T) {
		// cpu and replicas stay: a request of replicas may still be open.
		check(t, map[string]float64{"app=app1": 1, "app=app2": 3}, map[string]float64{"app=app1": 0, "app=app2": 2}, 1, []string{"cpu", "replicas"})
	})
	if ok := reloadsOf(t, reg, "success"); ok != 2 {
		t.Errorf("%v successful reloads, want 2", ok)
	}
}

// scrapeRun polls the /metrics of a run (startRun) at addr until ready
// says the scrape shows what the test waits for; it fails the test when
// the run exits first.
func scrapeRun(t *testing.T, addr string, done <-chan int, stderr *strings.Builder, ready func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	for {
		if resp, err := http.Get("http://" + addr + httpserver.MetricsPath); err == nil {
			_ = resp.Body.Close()
			if fams, _ := promtest.Scrape(t, "http://"+addr); ready(fams) {
				return fams
			}
		}
		select {
		case code := <-done:
			t.Fatalf("exited %d early: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startRun runs the command line args (a command, then its flags; and
// --http-addr addr) in this process until stop or the test ends; the exit
// status arrives on done.
func startRun(t *testing.T, addr string, stderr *strings.Builder, args ...string) (stop func() int, done <-chan int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	ch := make(chan int, 1)
	go func() {
		ch <- RunContext(ctx, append(append([]string{"metricsender"}, args...), "--http-addr", addr), io.Discard, stderr)
	}()
	return func() int { cancel(); return <-ch }, ch
}

// Before the first tick, while send still dials a broker that does not
// answer, /metrics already shows every deployment of the sender at 0: a
// sharded sender its own shard's only; above --app-metrics-limit the
// totals.
func TestSendZeroSeriesBeforeFirstTick(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, cfgPath, promtest.KnownConfig)
	cfg := promtest.ParseConfig(t, promtest.KnownConfig)
	for _, tc := range []struct {
		name string
		args []string
		want map[string]float64
	}{
		{"every deployment", nil, promtest.AppZeros(promtest.OwnedOf(t, cfg, generator.Shard{})...)},
		{"shard 0/2", []string{"--shard", "0/2"}, promtest.AppZeros(promtest.OwnedOf(t, cfg, generator.Shard{Index: 0, Count: 2})...)},
		{"shard 1/2", []string{"--shard", "1/2"}, promtest.AppZeros(promtest.OwnedOf(t, cfg, generator.Shard{Index: 1, Count: 2})...)},
		{"above --app-metrics-limit", []string{"--app-metrics-limit", "2"}, map[string]float64{"": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := brokertest.FreeAddr(t)
			var stderr strings.Builder
			stop, done := startRun(t, addr, &stderr, append([]string{"send", "-c", cfgPath,
				"--uri", "amqp://guest:guest@" + brokertest.FreeAddr(t) + "/", "--connect-timeout", "1m"}, tc.args...)...)
			fams := scrapeRun(t, addr, done, &stderr, func(fams map[string]*dto.MetricFamily) bool { return fams[promtest.PublishedName] != nil })
			if code := stop(); code != 0 {
				t.Errorf("exit %d: %s", code, stderr.String())
			}
			if got, _ := promtest.Sample(fams, "metricsender_ready", map[string]string{}); got != 0 {
				t.Fatalf("ready: the scrape came after the broker connection")
			}
			for _, name := range []string{promtest.PublishedName, promtest.UnroutableName} {
				if got := promtest.SeriesOf(fams, name); !maps.Equal(got, tc.want) {
					t.Errorf("%s = %v, want %v", name, got, tc.want)
				}
			}
		})
	}
}

// With --feedback, once the schedule runs, the operator's series and the
// bus's error reasons show at 0 before any request ended: at a 1h
// interval, only the first tick has been sent and nothing answers it.
func TestSendJudgeSeriesAtZero(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, cfgPath, promtest.KnownConfig)
	cfg := promtest.ParseConfig(t, promtest.KnownConfig)
	addr := brokertest.FreeAddr(t)
	var stderr strings.Builder
	stop, done := startRun(t, addr, &stderr, "send", "-t", "gochannel", "-c", cfgPath, "--feedback", "bus")
	fams := scrapeRun(t, addr, done, &stderr, func(fams map[string]*dto.MetricFamily) bool {
		return sum(fams[promtest.PublishedName]) >= float64(len(cfg.Deployments)) // the first tick went out
	})
	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if got, want := promtest.SeriesOf(fams, promtest.UnroutableName), promtest.AppZeros(promtest.OwnedOf(t, cfg, generator.Shard{})...); !maps.Equal(got, want) {
		t.Errorf("unroutable = %v, want %v", got, want)
	}
	if got, want := promtest.SeriesOf(fams, "metricsender_operator_requests_total"), promtest.RequestZeros("cpu", "memory", "replicas"); !maps.Equal(got, want) {
		t.Errorf("operator_requests_total = %v, want %v", got, want)
	}
	if got, want := promtest.SeriesOf(fams, "metricsender_operator_reaction_seconds"), promtest.MetricZeros("cpu", "memory", "replicas"); !maps.Equal(got, want) {
		t.Errorf("operator_reaction_seconds = %v, want %v", got, want)
	}
	reasons := map[string]float64{}
	for _, r := range feedback.Reasons {
		reasons["reason="+string(r)] = 0
	}
	if got := promtest.SeriesOf(fams, "metricsender_feedback_errors_total"); !maps.Equal(got, reasons) {
		t.Errorf("feedback_errors_total = %v, want %v", got, reasons)
	}
	if got, _ := promtest.Sample(fams, "metricsender_operator_open_requests", map[string]string{}); got == 0 {
		t.Errorf("no request open: the tick opened none, so the zeros above prove nothing")
	}
}

// The same from the command line: receive --config, still dialling a
// broker that does not answer, already shows the config's deployments.
func TestReceiveZeroSeriesBeforeFirstMessage(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, cfgPath, promtest.KnownConfig)
	addr := brokertest.FreeAddr(t)
	var stderr strings.Builder
	stop, done := startRun(t, addr, &stderr, "receive", "-c", cfgPath,
		"--uri", "amqp://guest:guest@"+brokertest.FreeAddr(t)+"/", "--connect-timeout", "1m")
	const name = "metricsender_messages_received_total"
	fams := scrapeRun(t, addr, done, &stderr, func(fams map[string]*dto.MetricFamily) bool { return fams[name] != nil })
	stop()
	if got, want := promtest.SeriesOf(fams, name), promtest.AppZeros("web", "db", "cache", "queue", "api"); !maps.Equal(got, want) {
		t.Errorf("received = %v, want %v", got, want)
	}
}
