package policy_test

import (
	"testing"
	"time"

	"github.com/labsea/metricsender/policy"
)

// A caller that decides once per message (preview, every 5 s here) while
// the controller syncs every second: with sync=1s the scale-down window
// ends a sync after the value fell, as the real controller's did in the
// differential test (6 -> 2 at 20 s, window 10 s: 30.1 s), not a message
// interval earlier (25 s).
func TestHPASync(t *testing.T) {
	const s = time.Second
	before := []step{{0, 6, 6, 6}, {5 * s, 6, 0, 6}, {10 * s, 6, 0, 6}, {15 * s, 6, 0, 6}, {20 * s, 2, 0, 6}}
	tests := []struct {
		name  string
		keys  string
		steps []step
	}{{
		name:  "each decision one sync",
		keys:  ",downWindow=10s,max=1000",
		steps: append(append([]step{}, before...), step{25 * s, 2, 0, 2}),
	}, {
		name:  "sync 1s: the last high recommendation stood until a sync before the change",
		keys:  ",downWindow=10s,max=1000,sync=1s",
		steps: append(append([]step{}, before...), step{25 * s, 2, 0, 6}, step{30 * s, 2, 0, 2}),
	}, {
		name:  "sync 1s without behavior: the controller's window of 30 s from the change",
		keys:  ",stabilization=30s,max=1000,sync=1s",
		steps: append(append([]step{}, before...), step{45 * s, 2, 0, 6}, step{50 * s, 2, 0, 2}),
	}, {
		name:  "sync longer than the interval changes nothing",
		keys:  ",downWindow=10s,max=1000,sync=15s",
		steps: append(append([]step{}, before...), step{25 * s, 2, 0, 2}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, hpaFor(t, tt.keys), tt.steps)
		})
	}
	t.Run("a negative sync is refused", func(t *testing.T) {
		if _, err := policy.ParseSpec("hpa:metric=m,target=1,sync=-1s"); err == nil {
			t.Error("sync=-1s accepted")
		}
	})
}
