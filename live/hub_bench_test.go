package live_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/live"
)

// BenchmarkSent is the send loop's Sent hook on a 10,000-message batch:
// with no page connected (what every run pays) and with a page following
// one deployment.
func BenchmarkSent(b *testing.B) {
	events := make([]generator.Event, 10000)
	for i := range events {
		events[i] = sent(fmt.Sprintf("web-%d", i), 1, "cpu", "500m", "replicas", "2")
	}
	for _, following := range []bool{false, true} {
		b.Run(fmt.Sprintf("following=%v", following), func(b *testing.B) {
			_, sched := testConfig(b)
			h, srv := newHub(b, live.Config{})
			h.Start(live.Run{Start: time.Now(), Schedule: sched})
			if following {
				c := openStream(b, srv.URL, "select=web-1")
				c.Next(b, live.TypePoints)
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				h.Sent(events, now)
			}
		})
	}
}
