package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/internal/promtest"
)

// startServer serves reg (and extra) on a free local port until the test ends.
func startServer(t *testing.T, reg *prometheus.Registry, ready func() error, extra func(*http.ServeMux)) string {
	t.Helper()
	s := httpserver.New("127.0.0.1:0", reg, ready, extra, nil)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + s.Addr()
}

func num(text string, n float64) generator.Value {
	return generator.Value{Text: text, Num: n, HasNum: true}
}

// send decides from the config it starts with: more deployments than
// --app-metrics-limit turns the per-deployment series off, and says so.
func TestSendAppMetricsLimit(t *testing.T) {
	for _, tc := range []struct {
		limit  string
		perApp bool
	}{{"2", true}, {"1", false}} {
		t.Run("limit="+tc.limit, func(t *testing.T) {
			addr := brokertest.FreeAddr(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr strings.Builder
			done := make(chan int, 1)
			go func() {
				done <- RunContext(ctx, []string{"metricsender", "send", "-t", "gochannel", "-c", "../examples/metricsender.yaml",
					"--interval", "20ms", "--http-addr", addr, "--app-metrics-limit", tc.limit}, io.Discard, &stderr)
			}()
			var fams map[string]*dto.MetricFamily
			for {
				if resp, err := http.Get("http://" + addr + httpserver.MetricsPath); err == nil {
					_ = resp.Body.Close()
					if fams, _ = promtest.Scrape(t, "http://"+addr); len(fams["metricsender_last_value"].GetMetric()) > 0 || !tc.perApp {
						if sum(fams["metricsender_messages_published_total"]) >= 4 {
							break
						}
					}
				}
				select {
				case code := <-done:
					t.Fatalf("send exited %d early: %s", code, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			pub := fams["metricsender_messages_published_total"].GetMetric()
			if tc.perApp {
				if len(pub) != 2 || len(fams["metricsender_last_value"].GetMetric()) != 4 {
					t.Errorf("published: %d series, last_value: %d; want 2 and 4 (per deployment)", len(pub), len(fams["metricsender_last_value"].GetMetric()))
				}
				if n := len(fams["metricsender_observed_replicas"].GetMetric()); n != 2 {
					t.Errorf("observed_replicas: %d series, want 2 (per deployment)", n)
				}
				if strings.Contains(stderr.String(), "per-deployment metrics off") {
					t.Errorf("logged metrics off under the limit:\n%s", stderr.String())
				}
				return
			}
			if len(pub) != 1 || len(pub[0].GetLabel()) != 0 || fams["metricsender_last_value"] != nil {
				t.Errorf("published: %v, last_value: %v; want one total and no last_value", pub, fams["metricsender_last_value"])
			}
			if fams["metricsender_observed_replicas"] != nil {
				t.Errorf("observed_replicas exported with per-deployment series off")
			}
			if !strings.Contains(stderr.String(), "per-deployment metrics off") {
				t.Errorf("no log line says the per-deployment metrics are off:\n%s", stderr.String())
			}
		})
	}
}

// sum adds the values of a counter family's series.
func sum(fam *dto.MetricFamily) float64 {
	total := 0.0
	for _, m := range fam.GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total
}
