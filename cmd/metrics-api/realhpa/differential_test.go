//go:build kubeapiserver

package realhpa_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/kubetest"
	"github.com/labsea/metricsender/internal/proctest"
)

// The differential run's clock: every app ticks every interval for
// duration; the HPA controller syncs every syncPeriod, and an HPA's
// scale-down window without its own is downscaleWindow (kube-controller-
// manager's --horizontal-pod-autoscaler-downscale-stabilization, 5m by
// default: made short here, and the stand-in gets the same as its
// stabilization key).
const (
	interval        = 5 * time.Second
	duration        = 150 * time.Second
	syncPeriod      = time.Second
	downscaleWindow = 30 * time.Second
	// slack is the project's allowance for a loaded machine in timed
	// checks (DESIGN: "delay + interval + 2s").
	slack = 2 * time.Second
)

// scenario is one app with its Deployment and HPA: an External metric
// "load" (the app's total) with AverageValue target 1, so the formula
// asks for ceil(load) replicas.
type scenario struct {
	name     string
	load     string // CEL of elapsed (seconds): the app's total
	faults   string // the deployment's faults:, YAML flow; "" none
	initial  int32  // the Deployment's replicas, and the config's state
	min, max int32
	behavior *autoscalingv2.HorizontalPodAutoscalerBehavior // nil: the HPA has none
	keys     string                                         // the stand-in's spec keys for behavior
	want     []int32                                        // the decisions both must make
}

func scenarios() []scenario {
	step := func(at int, before, after string) string {
		return fmt.Sprintf("elapsed < %d.0 ? %s : %s", at, before, after)
	}
	return []scenario{{
		// Without behavior the controller allows max(2 × current, 4) per sync.
		name: "up-inside-limit", load: step(20, "1.0", "4.0"), initial: 1, min: 1, max: 10,
		want: []int32{4},
	}, {
		name: "up-beyond-limit", load: step(20, "1.0", "7.0"), initial: 1, min: 1, max: 10,
		want: []int32{4, 7},
	}, {
		// behavior: {} gets the API's default policies: up by the more of
		// 4 pods and 100% per 15 s.
		name: "up-beyond-policies", load: step(20, "1.0", "10.0"), initial: 1, min: 1, max: 10,
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}, keys: "behavior=default",
		want: []int32{5, 10},
	}, {
		// The controller's window (--horizontal-pod-autoscaler-downscale-stabilization).
		name: "down-default-window", load: step(20, "6.0", "2.0"), initial: 6, min: 1, max: 10,
		want: []int32{2},
	}, {
		name: "down-short-window", load: step(20, "6.0", "2.0"), initial: 6, min: 1, max: 10,
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](10)},
		},
		keys: "downWindow=10s",
		want: []int32{2},
	}, {
		// 4.3 and 3.7 over 4 replicas are within 10% of the target; 4.5 is not.
		name: "tolerance", load: step(20, "4.0", step(40, "4.3", step(60, "3.7", "4.5"))), initial: 4, min: 1, max: 10,
		want: []int32{5},
	}, {
		// 0.5 asks for 1, under min; 9 for 9, over max; 0.2 for 1 again.
		name: "clamps", load: step(20, "0.5", step(60, "9.0", "0.2")), initial: 2, min: 2, max: 5,
		want: []int32{4, 5, 2},
	}, {
		// Silent in [0, 40) and [90, 130): the bridge ages the value out
		// (three intervals) and the HPA keeps its replicas, although the
		// load went up meanwhile.
		name: "missing", load: step(100, "2.0", "5.0"), faults: "{silence: {every: 90s, for: 40s}}", initial: 1, min: 1, max: 10,
		want: []int32{2, 4, 5},
	}}
}

// config is the sender's config for every scenario, app names prefixed
// with id.
func config(id string, ss []scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed: 1\ninterval: %s\ndeployments:\n", interval)
	for _, s := range ss {
		fmt.Fprintf(&b, "  - name: %s-%s\n    state: {replicas: %d}\n", id, s.name, s.initial)
		if s.faults != "" {
			fmt.Fprintf(&b, "    faults: %s\n", s.faults)
		}
		fmt.Fprintf(&b, "    metrics:\n      load: {expr: %q}\n", s.load)
	}
	return b.String()
}

// operatorSpec is the stand-in's spec for s, as preview --operator takes it.
func operatorSpec(s scenario) string {
	spec := fmt.Sprintf("hpa:metric=load,source=external,target=1,min=%d,max=%d,stabilization=%s,sync=%s", s.min, s.max, downscaleWindow, syncPeriod)
	if s.keys != "" {
		spec += "," + s.keys
	}
	return spec
}

// TestDifferential runs every scenario at once in one cluster (one
// Deployment, HPA and app each) and holds the real controller's replica
// decisions to the stand-in's on the same config: the same values in the
// same order, each within one sync period plus one tick (plus slack).
func TestDifferential(t *testing.T) {
	startAt := time.Now()
	c := kubetest.StartCluster(t, kubetest.ClusterConfig{SyncPeriod: syncPeriod, DownscaleStabilization: downscaleWindow})
	t.Logf("cluster started in %s", time.Since(startAt).Round(10*time.Millisecond))
	uri := brokertest.AMQPURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer cancel()

	id := runID(t)
	ss := scenarios()
	cfg := writeFile(t, "scenarios.yaml", config(id, ss))
	startBridge(t, c, uri, cfg)
	const ns = "default"
	log := watchReplicas(t, c, ns)
	for _, s := range ss {
		app := id + "-" + s.name
		create(t, ctx, c.Client, deployment(ns, app, s.initial), externalHPA(ns, app, "load", "1", s.min, s.max, s.behavior))
	}
	first := firstMessage(t, uri, id+"-"+ss[0].name)
	count := int(duration / interval)
	send := proctest.Start(t, sender, "send", "send", "-c", cfg, "--uri", uri, "--count", strconv.Itoa(count), "--http-addr", "")
	start := first()
	if code := send.Wait(t, duration+2*time.Minute); code != 0 {
		t.Fatalf("send exited %d:\n%s", code, send.Stderr.String())
	}
	// The last decisions a tick called for are made within a sync.
	time.Sleep(time.Until(start.Add(duration + syncPeriod + slack)))
	t.Logf("scenarios ran for %s after the cluster started", time.Since(start).Round(time.Second))

	within := syncPeriod + interval + slack
	for _, s := range ss {
		t.Run(s.name, func(t *testing.T) {
			app := id + "-" + s.name
			got := log.decisions(app, start)
			stand, sent := standIn(t, cfg, app, "load", operatorSpec(s), duration)
			if s.name == plotScenario {
				plotRun(t, s, sent, got, stand)
			}
			t.Logf("real %v, stand-in %v (%s)", got, stand, operatorSpec(s))
			if got := values(stand); !slices.Equal(got, s.want) {
				t.Errorf("stand-in decided %v, the scenario wants %v", got, s.want)
			}
			if !slices.Equal(values(got), values(stand)) {
				t.Fatalf("real controller decided %v, stand-in %v", got, stand)
			}
			for i := range got {
				if d := got[i].at - stand[i].at; d > within || d < -within {
					t.Errorf("decision %d (%d replicas): real at %s, stand-in at %s: more than %s apart",
						i, got[i].replicas, got[i].at.Round(100*time.Millisecond), stand[i].at, within)
				}
			}
		})
	}
}

func values(cs []change) []int32 {
	out := make([]int32, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.replicas)
	}
	return out
}
