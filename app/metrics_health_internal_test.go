package app

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/internal/promtest"
)

func TestReadyGauge(t *testing.T) {
	cases := []struct {
		name  string
		ready func() error
		want  float64
	}{
		{"no check", nil, 1},
		{"ready", func() error { return nil }, 1},
		{"ready with a note", func() error { return httpserver.ReadyNote("broker node h:5672") }, 1},
		{"not ready", func() error { return errors.New("connecting to the broker") }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			registerReady(reg, tc.ready)
			if got := promtest.GaugeValue(t, reg, "metricsender_ready"); got != tc.want {
				t.Fatalf("metricsender_ready = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadyGaugeFollowsTheCheck(t *testing.T) {
	var err error = errors.New("down")
	reg := prometheus.NewRegistry()
	registerReady(reg, func() error { return err })
	if got := promtest.GaugeValue(t, reg, "metricsender_ready"); got != 0 {
		t.Fatalf("while the check fails: %v, want 0", got)
	}
	err = nil
	if got := promtest.GaugeValue(t, reg, "metricsender_ready"); got != 1 {
		t.Fatalf("once the check passes: %v, want 1", got)
	}
}
