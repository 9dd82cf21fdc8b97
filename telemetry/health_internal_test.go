package telemetry

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/internal/promtest"
)

// The app's readiness verdict decides the gauge, asked at each scrape
// (app's TestReadyGauge covers the verdict itself).
func TestReadyGaugeAsksEachScrape(t *testing.T) {
	ready := false
	reg := prometheus.NewRegistry()
	RegisterReady(reg, func() bool { return ready })
	if got := promtest.GaugeValue(t, reg, "metricsender_ready"); got != 0 {
		t.Fatalf("while not ready: %v, want 0", got)
	}
	ready = true
	if got := promtest.GaugeValue(t, reg, "metricsender_ready"); got != 1 {
		t.Fatalf("once ready: %v, want 1", got)
	}
}

func TestTickIntervalGauge(t *testing.T) {
	iv := 10 * time.Second
	reg := prometheus.NewRegistry()
	RegisterTickInterval(reg, func() time.Duration { return iv })
	if got := promtest.GaugeValue(t, reg, "metricsender_tick_interval_seconds"); got != 10 {
		t.Fatalf("got %v, want 10", got)
	}
	iv = 250 * time.Millisecond // a reload
	if got := promtest.GaugeValue(t, reg, "metricsender_tick_interval_seconds"); got != 0.25 {
		t.Fatalf("after a change: got %v, want 0.25", got)
	}
}

func TestOldestOpenGauge(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		at   time.Time
		open bool
		want float64
	}{
		{"none open", time.Time{}, false, 0},
		{"open for 42.5s", now.Add(-42500 * time.Millisecond), true, 42.5},
		{"opened after now (clock skew): 0, not negative", now.Add(time.Second), true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			RegisterOldestOpen(reg, func() (time.Time, bool) { return tc.at, tc.open }, func() time.Time { return now })
			if got := promtest.GaugeValue(t, reg, "metricsender_operator_oldest_open_request_seconds"); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPublishErrorsShowFromTheStart: every reason a transport reports has
// a series at 0 before any failure, so rate() over them reads 0, not
// nothing (the dashboard and the MetricsenderPublishErrors alert rely on it).
func TestPublishErrorsShowFromTheStart(t *testing.T) {
	for _, perApp := range []bool{true, false} {
		reg := prometheus.NewRegistry()
		NewSend(reg, perApp)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() != "metricsender_publish_errors_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
		for _, reason := range []string{"closed", "timeout", "nack", "error", "unroutable"} {
			if v, ok := got[reason]; !ok || v != 0 {
				t.Errorf("perApp=%v: reason %q: %v, %v; want a series at 0", perApp, reason, v, ok)
			}
		}
	}
}
