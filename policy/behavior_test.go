package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/policy"
)

// step is one sync on a fake clock: at this time, with these replicas
// (spec.replicas), the metric asks for `asks` replicas.
type step struct {
	at          time.Duration
	asks, given float64
	want        float64
}

// hpaFor is an HPA from spec keys whose metric is the replica count asked
// for: an external total against a target of 1 per replica, tolerance 0,
// so desired = ceil(value) and every step exercises the normalization;
// keys add to that (max=1000 unless the case is about max).
func hpaFor(t *testing.T, keys string) *policy.HPA {
	t.Helper()
	spec, err := policy.ParseSpec("hpa:metric=m,source=external,target=1,tolerance=0" + keys)
	if err != nil {
		t.Fatal(err)
	}
	return spec.Policy.(*policy.HPA)
}

// run drives steps, each given the replicas the previous one decided
// unless it says otherwise, and checks every decision.
func run(t *testing.T, h *policy.HPA, steps []step) {
	t.Helper()
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var last float64
	for i, s := range steps {
		given := s.given
		if given == 0 {
			given = last
		}
		d := h.Decide(policy.Request{App: "web", Metrics: map[string]float64{"m": s.asks}, At: t0.Add(s.at)}, given)
		if !d.HasReplicas || d.Replicas != s.want {
			t.Errorf("step %d at %s: %g replicas, metric asks %g: decided %+v, want %g", i, s.at, given, s.asks, d, s.want)
		}
		last = d.Replicas
	}
}

// The worked examples of the Kubernetes HPA documentation ("Configurable
// scaling behavior"), each on a fake clock, and the controller's rules for
// an HPA without behavior.
func TestHPABehavior(t *testing.T) {
	const min = time.Minute
	tests := []struct {
		name  string
		keys  string
		steps []step
	}{{
		// "if there are 80 replicas and the target has to be scaled down to
		// 10 replicas then during the first step 8 replicas will be reduced.
		// In the next iteration when the number of replicas is 72, 10% of
		// the pods is 7.2 but the number is rounded up to 8. ... When the
		// number of replicas falls below 40 the first policy (Pods) is
		// applied and 4 replicas will be reduced at a time."
		name: "scale-down policies 4 pods and 10% per minute, select max",
		keys: ",down=4pods/60s+10%/60s,downWindow=0s,max=1000",
		steps: []step{{0, 10, 80, 72}, {1 * min, 10, 0, 64}, {2 * min, 10, 0, 57}, {3 * min, 10, 0, 51},
			{4 * min, 10, 0, 45}, {5 * min, 10, 0, 40}, {6 * min, 10, 0, 36}, {7 * min, 10, 0, 32},
			{8 * min, 10, 0, 28}, {9 * min, 10, 0, 24}, {10 * min, 10, 0, 20}, {11 * min, 10, 0, 16},
			{12 * min, 10, 0, 12}, {13 * min, 10, 0, 10}},
	}, {
		// The period holds across syncs: a sync 15 s after the first step
		// counts its 8 replicas, so it may remove no more.
		name:  "the period counts the changes already made in it",
		keys:  ",down=4pods/60s+10%/60s,downWindow=0s,max=1000",
		steps: []step{{0, 10, 80, 72}, {15 * time.Second, 10, 0, 72}, {45 * time.Second, 10, 0, 72}, {61 * time.Second, 10, 0, 64}},
	}, {
		// "selectPolicy: Min ... the autoscaler chooses the policy that
		// affects the smallest number of Pods" (limit scale down rate).
		name:  "select min: 10% per minute but no more than 5 pods",
		keys:  ",down=10%/60s+5pods/60s,downSelect=min,downWindow=0s,max=1000",
		steps: []step{{0, 10, 80, 75}, {1 * min, 10, 0, 70}, {2 * min, 10, 0, 65}, {3 * min, 10, 0, 60}},
	}, {
		name:  "select min on the same policies as the first example",
		keys:  ",down=4pods/60s+10%/60s,downSelect=min,downWindow=0s,max=1000",
		steps: []step{{0, 10, 80, 76}, {1 * min, 10, 0, 72}},
	}, {
		// "Example: disable scale down".
		// Scale-up keeps its defaults: 8 -> max(8+4, 2 x 8).
		name:  "scale-down disabled",
		keys:  ",downSelect=disabled,max=1000",
		steps: []step{{0, 1, 8, 8}, {10 * min, 1, 0, 8}, {11 * min, 20, 0, 16}},
	}, {
		// "scaleUp: policies: - type: Percent value: 900 ... If the
		// application is started with 1 pod, it will scale up with the
		// following number of pods: 1 -> 10 -> 100 -> 1000".
		name:  "scale-up 900% per minute",
		keys:  ",up=900%/60s,max=1000",
		steps: []step{{0, 5000, 1, 10}, {1 * min, 5000, 0, 100}, {2 * min, 5000, 0, 1000}},
	}, {
		// The default behavior: "double the number of pods or add 4 pods
		// every 15 seconds", and "100% of the currently running replicas
		// to be removed" after the 300 s window.
		name: "the default behavior",
		keys: ",behavior=default,max=1000",
		steps: []step{{0, 50, 1, 5}, {15 * time.Second, 50, 0, 10}, {30 * time.Second, 50, 0, 20},
			{45 * time.Second, 50, 0, 40}, {60 * time.Second, 50, 0, 50},
			{2 * min, 1, 0, 50}, {6*min - time.Second, 1, 0, 50}, {6 * min, 1, 0, 1}},
	}, {
		// Two syncs inside one 15 s period: 1 -> 5 (4 pods beat 100%),
		// then nothing more until the period has passed.
		name:  "the default scale-up limit holds over its period",
		keys:  ",behavior=default,max=1000",
		steps: []step{{0, 50, 1, 5}, {5 * time.Second, 50, 0, 5}, {15 * time.Second, 50, 0, 10}},
	}, {
		// "stabilizationWindowSeconds: 60": a scale-down follows the
		// highest recommendation of the last minute.
		name: "downscale stabilization window of 60 s",
		keys: ",downWindow=60s,max=1000",
		steps: []step{{0, 10, 10, 10}, {20 * time.Second, 4, 0, 10}, {40 * time.Second, 6, 0, 10},
			{61 * time.Second, 5, 0, 6}, {101 * time.Second, 5, 0, 5}},
	}, {
		// A scale-up window: the lowest recommendation of the window (the
		// first sync recorded the replicas it found).
		name:  "upscale stabilization window of 60 s",
		keys:  ",upWindow=60s,max=1000",
		steps: []step{{0, 6, 2, 2}, {30 * time.Second, 6, 0, 2}, {61 * time.Second, 6, 0, 6}},
	}, {
		// kube-controller-manager for an HPA without spec.behavior (the
		// older rules, not the documented defaults): at most max(2 ×
		// current, 4) per sync, however often it syncs; scale-down at once
		// after the window, unlimited in size.
		name: "no behavior: the controller's older rules",
		keys: ",max=1000",
		steps: []step{{0, 50, 1, 4}, {5 * time.Second, 50, 0, 8}, {10 * time.Second, 50, 0, 16},
			{15 * time.Second, 50, 0, 32}, {20 * time.Second, 50, 0, 50},
			{1 * min, 1, 0, 50}, {5*min + 20*time.Second, 1, 0, 50}, {5*min + 21*time.Second, 1, 0, 1}},
	}, {
		// Observed on kube-controller-manager v1.37.2 (shared/REAL-HPA.md,
		// windows 0, default policies, sync 2 s): 1 -> 5 at once when 10
		// are asked for, 10 one period later.
		name: "real controller: 1 -> 5, then 10 after 15 s",
		keys: ",upWindow=0s,downWindow=0s,max=1000",
		steps: []step{{0, 10, 1, 5}, {2 * time.Second, 10, 0, 5}, {14 * time.Second, 10, 0, 5},
			{16 * time.Second, 10, 0, 10}},
	}, {
		// Also observed there: "the per-period baseline also counts recent
		// scale-downs: 2 -> 8 after a 4 -> 2 event".
		name:  "real controller: a scale-down in the period raises the scale-up baseline",
		keys:  ",upWindow=0s,downWindow=0s,max=1000",
		steps: []step{{0, 2, 4, 2}, {4 * time.Second, 50, 0, 8}},
	}, {
		name:  "replicas outside min and max are brought back without a metric",
		keys:  ",max=10,min=2",
		steps: []step{{0, 5, 12, 10}, {time.Second, 5, 1, 2}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, hpaFor(t, tt.keys), tt.steps)
		})
	}
}

// External AverageValue, as GetExternalPerPodMetricReplicas computes it:
// the ratio per existing replica decides the tolerance, the total alone
// the count.
func TestHPAExternalDesired(t *testing.T) {
	tests := []struct {
		name           string
		current, value float64
		want           float64
	}{
		{"2 against 500m from 1: 4", 1, 2, 4},
		{"1 against 500m from 4: 2", 4, 1, 2},
		{"within the tolerance of 2 per replica: no change", 4, 2.1, 4},
		{"the ratio is 1.1 exactly: within", 4, 2.2, 4},
		{"past it: ceil of the total", 4, 2.3, 5},
		{"0 asks for 0", 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := policy.ParseSpec("hpa:metric=cpu,source=external,target=500m")
			if err != nil {
				t.Fatal(err)
			}
			if got := spec.Policy.(*policy.HPA).Desired(tt.current, tt.value); got != tt.want {
				t.Errorf("Desired(%g, %g) = %g, want %g", tt.current, tt.value, got, tt.want)
			}
		})
	}
}

func TestParseSpecBehavior(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"hpa:metric=cpu,target=0.5,up=4pods/15s,down=100%/15s,downWindow=300s", ""},
		{"hpa:metric=cpu,target=0.5,up=4pods/15s+100%/15s,upSelect=max,upWindow=0s,downSelect=Min", ""},
		{"hpa:metric=cpu,target=0.5,behavior=default,source=external", ""},
		{"hpa:metric=cpu,target=0.5,up=4pods/15s,behavior=none", ""}, // behavior first, so up stays
		{"hpa:metric=cpu,target=0.5,up=4/15s", `up: policy "4/15s": want Npods/PERIOD`},
		{"hpa:metric=cpu,target=0.5,down=10%", `down: policy "10%": want`},
		{"hpa:metric=cpu,target=0.5,up=0pods/15s", "hpa: up: 0pods/15s: value must be >= 1"},
		{"hpa:metric=cpu,target=0.5,down=1pods/1500ms", "hpa: down: 1pods/1.5s: period must be whole seconds"},
		{"hpa:metric=cpu,target=0.5,down=1pods/31m", "period must be whole seconds in [1s, 30m]"},
		{"hpa:metric=cpu,target=0.5,upSelect=most", `upSelect: want max, min or disabled, got "most"`},
		{"hpa:metric=cpu,target=0.5,downWindow=2h", "hpa: downWindow: must be whole seconds in [0s, 1h]"},
		{"hpa:metric=cpu,target=0.5,upWindow=soon", `upWindow: want a duration, got "soon"`},
		{"hpa:metric=cpu,target=0.5,behavior=some", `behavior: want default or none`},
		{"hpa:metric=cpu,target=0.5,source=object", `source: want pods or external`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			spec, err := policy.ParseSpec(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpec: %v", err)
				}
				if h := spec.Policy.(*policy.HPA); strings.Contains(tt.in, "up=") && (h.Behavior == nil || len(h.Behavior.ScaleUp.Policies) == 0) {
					t.Errorf("behavior %+v, want the up policies", h.Behavior)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseSpec = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
