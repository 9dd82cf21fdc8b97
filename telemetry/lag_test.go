package telemetry_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/telemetry"
)

// The live page shows the last tick's lag, as ObserveTick got it (a tick
// early by the clock's jitter is on time).
func TestLastTickLag(t *testing.T) {
	m := telemetry.NewSend(prometheus.NewRegistry(), false)
	for _, tt := range []struct{ lag, want time.Duration }{{0, 0}, {3 * time.Millisecond, 3 * time.Millisecond}, {-time.Millisecond, 0}} {
		m.ObserveTick(tt.lag, nil)
		if got := m.LastTickLag(); got != tt.want {
			t.Errorf("after ObserveTick(%s): LastTickLag %s, want %s", tt.lag, got, tt.want)
		}
	}
}
