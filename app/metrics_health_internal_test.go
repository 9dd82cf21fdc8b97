package app

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gaugeValue gathers reg and returns the value of the one series of name.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			if n := len(mf.GetMetric()); n != 1 {
				t.Fatalf("%s has %d series, want 1", name, n)
			}
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not exported", name)
	return 0
}

func TestReadyGauge(t *testing.T) {
	cases := []struct {
		name  string
		ready func() error
		want  float64
	}{
		{"no check", nil, 1},
		{"ready", func() error { return nil }, 1},
		{"ready with a note", func() error { return readyNote("broker node h:5672") }, 1},
		{"not ready", func() error { return errors.New("connecting to the broker") }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			registerReady(reg, tc.ready)
			if got := gaugeValue(t, reg, "metricsender_ready"); got != tc.want {
				t.Fatalf("metricsender_ready = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadyGaugeFollowsTheCheck(t *testing.T) {
	var err error = errors.New("down")
	reg := prometheus.NewRegistry()
	registerReady(reg, func() error { return err })
	if got := gaugeValue(t, reg, "metricsender_ready"); got != 0 {
		t.Fatalf("while the check fails: %v, want 0", got)
	}
	err = nil
	if got := gaugeValue(t, reg, "metricsender_ready"); got != 1 {
		t.Fatalf("once the check passes: %v, want 1", got)
	}
}

func TestTickIntervalGauge(t *testing.T) {
	iv := 10 * time.Second
	reg := prometheus.NewRegistry()
	registerTickInterval(reg, func() time.Duration { return iv })
	if got := gaugeValue(t, reg, "metricsender_tick_interval_seconds"); got != 10 {
		t.Fatalf("got %v, want 10", got)
	}
	iv = 250 * time.Millisecond // a reload
	if got := gaugeValue(t, reg, "metricsender_tick_interval_seconds"); got != 0.25 {
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
			registerOldestOpen(reg, func() (time.Time, bool) { return tc.at, tc.open }, func() time.Time { return now })
			if got := gaugeValue(t, reg, "metricsender_operator_oldest_open_request_seconds"); got != tc.want {
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
		newSendMetrics(reg, perApp)
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
