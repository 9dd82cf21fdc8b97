package latest_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
)

// benchApps is the scale the bridge is sized for.
const benchApps = 150_000

// benchMessage is app i's message: cpu and memory, as a sender sends them.
func benchMessage(i int, at time.Time) codec.Received {
	return codec.Received{App: "app-" + strconv.Itoa(i), Time: at, Metrics: []generator.Metric{
		{Name: "cpu", Value: generator.Value{Text: "750m", Num: 0.75, HasNum: true}},
		{Name: "memory", Value: generator.Value{Text: "512Mi", Num: 536870912, HasNum: true}},
	}}
}

// filledStore is a store holding benchApps apps of two metrics each.
func filledStore(b *testing.B) *latest.Store {
	b.Helper()
	s, err := latest.New(latest.Config{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := range benchApps {
		s.Put(benchMessage(i, now))
	}
	return s
}

// BenchmarkStoreGet is one app's value looked up among 150,000 apps, from
// all cores at once (the API server serves requests concurrently).
func BenchmarkStoreGet(b *testing.B) {
	s := filledStore(b)
	apps := make([]string, 1024)
	for i := range apps {
		apps[i] = "app-" + strconv.Itoa(i*97%benchApps)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := s.Get("cpu", "default", apps[i%len(apps)]); !ok {
				b.Fatal("absent")
			}
			i++
		}
	})
}

// BenchmarkStorePut is one message (two metrics) of an app already known,
// among 150,000.
func BenchmarkStorePut(b *testing.B) {
	s := filledStore(b)
	msgs := make([]codec.Received, 1024)
	now := time.Now()
	for i := range msgs {
		msgs[i] = benchMessage(i*97%benchApps, now.Add(time.Second))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Put(msgs[i%len(msgs)])
	}
}

// BenchmarkStoreMemory reports the heap a store of 150,000 apps of two
// metrics holds, per app (the decoded messages' strings included, as the
// bridge keeps them). Run it with -benchtime 1x: each iteration fills a
// store.
func BenchmarkStoreMemory(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := filledStore(b)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(s)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchApps, "B/app")
	}
}
