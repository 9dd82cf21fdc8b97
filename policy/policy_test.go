package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/policy"
)

// The worked examples of the Kubernetes HPA documentation ("Algorithm
// details"), and the edges of the formula.
func TestHPADesired(t *testing.T) {
	tests := []struct {
		name                   string
		current, value, target float64
		want                   float64
	}{
		{"200m against 100m doubles", 1, 0.2, 0.1, 2},
		{"50m against 100m halves", 4, 0.05, 0.1, 2},
		{"within the 0.1 tolerance: no change", 3, 0.109, 0.1, 3},
		{"just past the tolerance scales", 3, 0.111, 0.1, 4},
		{"ceil, not round", 3, 0.15, 0.1, 5},
		{"a value of 0 asks for 0 (then clamped to min)", 5, 0, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := policy.NewHPA("cpu", tt.target)
			if got := h.Desired(tt.current, tt.value); got != tt.want {
				t.Errorf("Desired(%g, %g) against %g = %g, want %g", tt.current, tt.value, tt.target, got, tt.want)
			}
		})
	}
}

func TestHPADecide(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	req := func(at time.Duration, cpu float64) policy.Request {
		return policy.Request{App: "web", Metrics: map[string]float64{"cpu": cpu}, At: t0.Add(at)}
	}
	h := policy.NewHPA("cpu", 0.5)
	h.Max = 8
	steps := []struct {
		at       time.Duration
		cpu      float64
		replicas float64 // what the operator knows
		want     float64
	}{
		{0, 2, 1, 4},                 // 1 x 4 = 4
		{time.Minute, 4, 4, 8},       // 4 x 8 = 32, clamped to max 8
		{2 * time.Minute, 0.1, 8, 8}, // wants 2, but the window still holds 8: scale-down waits
		{4 * time.Minute, 0.1, 8, 8},
		{7*time.Minute + time.Second, 0.1, 8, 2}, // 5 minutes after the last 8
		{8 * time.Minute, 0, 2, 2},               // 0 clamps to min 1, but 2 is in the window
	}
	for _, s := range steps {
		d := h.Decide(req(s.at, s.cpu), s.replicas)
		if !d.HasReplicas || d.Replicas != s.want {
			t.Errorf("at %s cpu %g with %g replicas: %+v, want replicas %g", s.at, s.cpu, s.replicas, d, s.want)
		}
	}
	if d := h.Decide(policy.Request{App: "web", Metrics: map[string]float64{"memory": 1}, At: t0}, 3); !d.Empty() {
		t.Errorf("a request without the metric decided %+v", d)
	}
}

func TestFollow(t *testing.T) {
	d := policy.Follow{}.Decide(policy.Request{App: "a", Metrics: map[string]float64{"replicas": 3, "cpu": 0.75}}, 1)
	if !d.HasReplicas || d.Replicas != 3 || d.Allocation["cpu"] != 0.75 || len(d.Allocation) != 1 {
		t.Errorf("Follow = %+v, want replicas 3 and allocation cpu 0.75", d)
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct{ in, wantErr string }{
		{"follow", ""},
		{"follow:delay=2s", ""},
		{"hpa:metric=cpu,target=500m,delay=30s", ""},
		{"hpa:metric=cpu,target=0.5,min=2,max=20,tolerance=0.05,stabilization=1m", ""},
		{"hpa:target=0.5", "metric: empty"},
		{"hpa:metric=cpu", "target: must be > 0"},
		{"hpa:metric=cpu,target=0.5,min=3,max=2", "min 3, max 2"},
		{"hpa:metric=cpu,target=0.5,speed=9", `unknown setting "speed"`},
		{"hpa:metric=cpu,target=x", "target:"},
		{"follow:delay=soon", "delay: want a duration"},
		{"follow:delay", "want key=value"},
		{"vpa", `unknown policy "vpa"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := policy.ParseSpec(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpec: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseSpec = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
