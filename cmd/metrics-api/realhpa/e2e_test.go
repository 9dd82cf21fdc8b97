//go:build kubeapiserver

package realhpa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/kubetest"
	"github.com/labsea/metricsender/internal/proctest"
	"github.com/labsea/metricsender/internal/promtest"
)

// TestEndToEnd is the whole chain with the real controller: send
// --feedback kubernetes publishes a load that steps up and down on the
// real RabbitMQ, the bridge serves it as the External metric "load", and
// the HPA of the Deployment the app maps to (kubernetes: name) scales it.
// The Deployment's replicas follow the HPA's formula, ceil(load / 1), and
// the judge reports the HPA's reactions, the same in its summary line,
// its --report and /metrics.
func TestEndToEnd(t *testing.T) {
	startAt := time.Now()
	c := kubetest.StartCluster(t, kubetest.ClusterConfig{SyncPeriod: syncPeriod})
	t.Logf("cluster started in %s", time.Since(startAt).Round(10*time.Millisecond))
	uri := brokertest.AMQPURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	id := runID(t)
	app, workload := id+"-web", id+"-frontend"
	// 1 core, then 3.5 (4 replicas of target 1) from 20 s, then 1.5 (2) from 50 s.
	cfg := writeFile(t, "web.yaml", fmt.Sprintf(`seed: 1
interval: %s
deployments:
  - name: %s
    kubernetes: {name: %s}
    metrics:
      load: {expr: "elapsed < 20.0 ? 1.0 : (elapsed < 50.0 ? 3.5 : 1.5)"}
`, interval, app, workload))
	startBridge(t, c, uri, cfg)
	const ns = "default"
	log := watchReplicas(t, c, ns)
	// Windows 0 both ways: the HPA follows the load at its next sync (the
	// default policies, 4 pods or 100% up and 100% down per 15 s, allow
	// each step at once).
	behavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](0)},
	}
	h := externalHPA(ns, workload, "load", "1", 1, 10, behavior)
	h.Spec.Metrics[0].External.Metric.Selector.MatchLabels["app"] = app
	create(t, ctx, c.Client, deployment(ns, workload, 1), h)

	addr := brokertest.FreeAddr(t)
	report := writeFile(t, "report.json", "")
	first := firstMessage(t, uri, app)
	send := proctest.Start(t, sender, "send", "send", "-c", cfg, "--uri", uri, "--http-addr", addr,
		"--feedback", "kubernetes", "--kubeconfig", c.Kubeconfig, "--kube-namespace", ns, "--report", report)
	start := first()
	waitReplicas := func(want int32, after time.Duration) {
		t.Helper()
		time.Sleep(time.Until(start.Add(after)))
		for log.current(workload) != want {
			if ctx.Err() != nil {
				t.Fatalf("replicas %d, want %d (the formula: ceil(load / 1))", log.current(workload), want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitReplicas(4, 20*time.Second)
	waitReplicas(2, 50*time.Second)
	// Two more ticks at 2 replicas: the judge has seen the last change
	// and nothing opens any more.
	time.Sleep(2*interval + time.Second)
	fams, _ := promtest.Scrape(t, "http://"+addr)
	send.Terminate(t)
	if code := send.Wait(t, time.Minute); code != 0 {
		t.Fatalf("send exited %d:\n%s", code, send.Stderr.String())
	}

	if got := values(log.decisions(workload, start)); !slices.Equal(got, []int32{4, 2}) {
		t.Errorf("the HPA scaled %s to %v, want [4 2]", workload, got)
	}
	line := summary(t, send.Stderr.String())
	t.Logf("replicas %v; summary %v", log.decisions(workload, start), line)
	var rep struct {
		HPA *struct {
			Requests, Applied, Superseded, Open, Late int
			ReactionMax                               *float64 `json:"reaction_max_seconds"`
			Unjudged                                  []struct{ App, Reason string }
		} `json:"hpa"`
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil || rep.HPA == nil {
		t.Fatalf("report: %v, no hpa part:\n%s", err, data)
	}
	h2 := rep.HPA
	if h2.Requests != 2 || h2.Applied != 2 || h2.Open != 0 || h2.Superseded != 0 || len(h2.Unjudged) != 0 {
		t.Errorf("report's hpa = %+v, want the two steps requested and applied, none open, none unjudged", *h2)
	}
	// A reaction is at most one sync after the message (plus the slack).
	if h2.ReactionMax == nil || *h2.ReactionMax > (syncPeriod+interval+slack).Seconds() {
		t.Errorf("report's hpa reaction_max_seconds = %v, want at most %s", h2.ReactionMax, syncPeriod+interval+slack)
	}
	for field, want := range map[string]int{"hpa_requests": h2.Requests, "hpa_applied": h2.Applied,
		"hpa_superseded": h2.Superseded, "hpa_open": h2.Open, "hpa_unjudged": len(h2.Unjudged)} {
		if line[field] != strconv.Itoa(want) {
			t.Errorf("summary line %s=%s, report %d", field, line[field], want)
		}
	}
	if want := fmt.Sprintf("%.3f", *h2.ReactionMax); line["hpa_reaction_max"] != want {
		t.Errorf("summary line hpa_reaction_max=%s, report %s", line["hpa_reaction_max"], want)
	}
	for _, m := range []struct {
		name   string
		labels map[string]string
		want   int
	}{
		{"metricsender_operator_hpa_requests_total", map[string]string{"result": "applied"}, h2.Applied},
		{"metricsender_operator_hpa_requests_total", map[string]string{"result": "superseded"}, h2.Superseded},
		{"metricsender_operator_hpa_open_requests", nil, h2.Open},
		{"metricsender_operator_hpa_unjudged", nil, len(h2.Unjudged)},
	} {
		if v, ok := promtest.Sample(fams, m.name, m.labels); !ok || v != float64(m.want) {
			t.Errorf("/metrics %s%v = %v (present %v), report %d", m.name, m.labels, v, ok, m.want)
		}
	}
	if fam := fams["metricsender_operator_hpa_reaction_seconds"]; fam == nil || len(fam.GetMetric()) != 1 ||
		fam.GetMetric()[0].GetHistogram().GetSampleCount() != uint64(h2.Applied) {
		t.Errorf("/metrics metricsender_operator_hpa_reaction_seconds: want %d observations, got %v", h2.Applied, fam)
	}
}

var fieldRE = regexp.MustCompile(`(\w+)=(\S+)`)

// summary parses the judge's summary line (the one with hpa_requests=)
// from send's stderr.
func summary(t *testing.T, stderr string) map[string]string {
	t.Helper()
	for _, l := range regexp.MustCompile(`(?m)^.*hpa_requests=.*$`).FindAllString(stderr, -1) {
		out := map[string]string{}
		for _, m := range fieldRE.FindAllStringSubmatch(l, -1) {
			out[m[1]] = m[2]
		}
		return out
	}
	t.Fatalf("no summary line with hpa_requests= in:\n%s", stderr)
	return nil
}
