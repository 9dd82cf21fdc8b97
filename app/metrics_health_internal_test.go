package app

import (
	"errors"
	"testing"

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
