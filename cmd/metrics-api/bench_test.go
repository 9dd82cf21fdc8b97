package main

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// benchApps is the scale the bridge is sized for (the largest Kubernetes
// cluster, one app per pod).
const benchApps = 150_000

func benchEvent(i int, cpu string, at time.Time) generator.Event {
	return generator.Event{App: "app-" + strconv.Itoa(i), Time: at, Metrics: []generator.Metric{
		{Name: "cpu", Value: generator.Value{Text: cpu, Num: 0.75, HasNum: true}},
		{Name: "memory", Value: generator.Value{Text: "512Mi", Num: 536870912, HasNum: true}},
	}}
}

// externalValue GETs app's cpu through the external metrics API with
// client and returns its value text ("" when the list is empty, or the
// metric is not known yet: 404).
func externalValue(tb testing.TB, client *http.Client, addr, app string) string {
	resp, err := client.Get("https://" + addr + "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/cpu?labelSelector=app%3D" + app)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err == nil && resp.StatusCode == http.StatusNotFound {
		return ""
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET cpu of %s: %d %s %v", app, resp.StatusCode, body, err)
	}
	var list struct {
		Items []struct {
			Value string `json:"value"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		tb.Fatal(err)
	}
	if len(list.Items) == 0 {
		return ""
	}
	return list.Items[0].Value
}

// percentileMs is the nearest-rank percentile p of ds, in milliseconds.
func percentileMs(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := max(0, min(len(s)-1, int(p/100*float64(len(s))+0.999999)-1))
	return float64(s[rank].Microseconds()) / 1000
}

// BenchmarkServe150k serves 150,000 apps of two metrics (through the
// in-process bus) and GETs one app's cpu at a time through the external
// metrics API over HTTPS (HTTP/2, one connection, as the aggregator
// keeps one): each op is one GET. It reports the GET latency's p50 and
// p99, and the heap the filled bridge holds per app. Delegated
// authentication and authorization are off here (a cluster would answer
// them, and the library caches its answers): the latency is the bridge's.
func BenchmarkServe150k(b *testing.B) {
	addr, publish := startBridge(b)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	now := time.Now()
	for i := range benchApps {
		publish(benchEvent(i, "750m", now))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	client := newClient()
	if v := externalValue(b, client, addr, "app-149999"); v != "750m" {
		b.Fatalf("cpu of the last app = %q, want 750m", v)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		app := "app-" + strconv.Itoa(i*7919%benchApps)
		t0 := time.Now()
		if v := externalValue(b, client, addr, app); v != "750m" {
			b.Fatalf("cpu of %s = %q", app, v)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(percentileMs(lat, 50), "p50-ms")
	b.ReportMetric(percentileMs(lat, 99), "p99-ms")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchApps, "heap-B/app")
}

// BenchmarkMessageToServed measures, through a real RabbitMQ (AMQP_URI,
// default the local one; skipped without it), the time from publishing a
// new value of one app to the first GET through the API that returns it:
// each op publishes one message and polls until it is served. It reports
// p50 and p99.
func BenchmarkMessageToServed(b *testing.B) {
	uri := cmp.Or(os.Getenv("AMQP_URI"), transport.DefaultAMQPURI)
	exchange := "bench-metrics-api-" + strconv.Itoa(os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	pub, err := transport.New(ctx, "amqp", transport.Options{URI: uri, Exchange: exchange, Confirm: true, ConnectTimeout: 5 * time.Second}, nil)
	if err != nil {
		b.Skipf("no RabbitMQ at %s: %v", transport.RedactURI(uri), err)
	}
	b.Cleanup(func() { _ = pub.Close() })
	addr := serveBridge(b, nil, "--uri", uri, "--exchange", exchange)
	client := newClient()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		want := strconv.Itoa(i%999+1) + "m" // 1m..999m: a quantity prints as written
		ev := benchEvent(1, want, time.Now())
		t0 := time.Now()
		if err := pub.Publisher.Publish(codec.Topic(ev.App), codec.Encode(ev, 1)); err != nil {
			b.Fatal(err)
		}
		for deadline := t0.Add(10 * time.Second); ; {
			got := externalValue(b, client, addr, ev.App)
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("message %d: value %s not served after 10 s (serving %q)", i, want, got)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(percentileMs(lat, 50), "p50-ms")
	b.ReportMetric(percentileMs(lat, 99), "p99-ms")
}
