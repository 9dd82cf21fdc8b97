package kube_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
)

var hpaGVR = autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers")

// hpa is an HPA named name on Deployment target, scaling on the bridge's
// external cpu of app web against an AverageValue.
func hpa(name, target, averageValue string, max int32) *autoscalingv2.HorizontalPodAutoscaler {
	q := resource.MustParse(averageValue)
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: target},
			MaxReplicas:    max,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "cpu", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}}},
		},
	}
}

func cpuEvent(v float64) generator.Event {
	return generator.Event{App: "web", Metrics: []generator.Metric{{Name: "cpu", Value: generator.Value{Num: v, HasNum: true}}}}
}

const webCPU = "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n"

// TestHPALookup: the source finds the HPA that targets an app's
// Deployment through its informer, and answers what a value calls for
// with the stand-in's code on the HPA's spec; a spec change takes effect
// from the next call, a spec it cannot follow is reported once and not
// judged.
func TestHPALookup(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	type call struct {
		cpu, current float64
		want         float64
		judged       bool
	}
	valueTarget := hpa("web", "web", "500m", 10)
	valueTarget.Spec.Metrics[0].External.Target = autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: valueTarget.Spec.Metrics[0].External.Target.AverageValue}
	tests := []struct {
		name         string
		objs         []runtime.Object
		calls        []call
		wantUnjudged string // Unjudged()["web"], a prefix
		wantLog      string
	}{
		{name: "External AverageValue: ceil(total / target), clamped to max",
			objs:    []runtime.Object{deployment("web", 2, 2, nil), hpa("web-hpa", "web", "500m", 10)},
			calls:   []call{{2, 2, 4, true}, {1.1, 4, 4, true}, {20, 4, 8, true}, {20, 8, 10, true}},
			wantLog: `msg="kubernetes feedback: judging the HPA's reactions" feedback=kubernetes namespace=lab app=web hpa=web-hpa follows="metric=cpu,source=external,target=0.5,min=1,max=10,tolerance=0.1,stabilization=5m0s"`},
		{name: "no HPA targets the Deployment",
			objs:  []runtime.Object{deployment("web", 2, 2, nil), hpa("db", "db", "500m", 10)},
			calls: []call{{2, 2, 0, false}}},
		{name: "a Value target: reported, not judged",
			objs:         []runtime.Object{deployment("web", 2, 2, nil), valueTarget},
			calls:        []call{{2, 2, 0, false}},
			wantUnjudged: "HPA web: metric External cpu: target type Value: not followed",
			wantLog:      `msg="kubernetes feedback: the HPA's reactions are not judged" feedback=kubernetes namespace=lab app=web hpa=web reason="metric External cpu: target type Value`},
		{name: "two HPAs on one Deployment: the controller scales with none",
			objs:         []runtime.Object{deployment("web", 2, 2, nil), hpa("a", "web", "500m", 10), hpa("b", "web", "1", 10)},
			calls:        []call{{2, 2, 0, false}},
			wantUnjudged: "HPA a, b: 2 HPAs target Deployment web: the controller scales it with none of them (AmbiguousSelector)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, _, logs := start(t, kube.Config{Deployments: parse(t, webCPU)}, &recorder{}, tc.objs...)
			waitSynced(t, src)
			for i, c := range tc.calls {
				got, judged := src.Calls(cpuEvent(c.cpu), c.current, t0.Add(time.Duration(i)*time.Second))
				if got != c.want || judged != c.judged {
					t.Errorf("call %d: cpu %g at %g replicas: %g, %v; want %g, %v", i, c.cpu, c.current, got, judged, c.want, c.judged)
				}
			}
			if got := src.Unjudged()["web"]; !strings.HasPrefix(got, tc.wantUnjudged) || (got == "") != (tc.wantUnjudged == "") {
				t.Errorf("Unjudged()[web] = %q, want %q...", got, tc.wantUnjudged)
			}
			if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %s:\n%s", tc.wantLog, logs)
			}
			if n := strings.Count(logs.String(), "HPA's reactions"); n != 1 && tc.wantLog != "" {
				t.Errorf("the HPA is logged %d times, want once:\n%s", n, logs)
			}
			if err := src.Ready(); err != nil {
				t.Errorf("Ready = %v", err)
			}
		})
	}
}

// TestHPASpecChanges: an update of the HPA (through the informer) changes
// what the next call computes; deleting it ends the judging.
func TestHPASpecChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	src, client, _ := start(t, kube.Config{Deployments: parse(t, webCPU)}, &recorder{}, deployment("web", 4, 4, nil), hpa("web", "web", "500m", 10))
	waitSynced(t, src)
	if got, _ := src.Calls(cpuEvent(2), 4, t0); got != 4 {
		t.Fatalf("before the change: %g, want 4 (2 / 500m)", got)
	}
	if err := client.tracker.Update(hpaGVR, hpa("web", "web", "250m", 10), ns); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new target (250m) followed", func() bool { got, _ := src.Calls(cpuEvent(2), 4, t0); return got == 8 })
	if err := client.tracker.Delete(hpaGVR, ns, "web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted HPA no longer judged", func() bool { _, judged := src.Calls(cpuEvent(2), 2, t0); return !judged })
}

// TestHPARescaleObserved: the controller's rescale, observed on the
// Deployment, uses up the behavior policy's room, as the controller's own
// scale event does; a decision not applied yet does not.
func TestHPARescaleObserved(t *testing.T) {
	h := hpa("web", "web", "1", 100)
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 600}}}}
	src, client, _ := start(t, kube.Config{Deployments: parse(t, webCPU)}, &recorder{}, deployment("web", 1, 1, nil), h)
	waitSynced(t, src)
	now := time.Now()
	if got, _ := src.Calls(cpuEvent(20), 1, now); got != 5 {
		t.Fatalf("first call: %g, want 5 (1 + 4 pods)", got)
	}
	if got, _ := src.Calls(cpuEvent(20), 1, now.Add(time.Second)); got != 5 {
		t.Errorf("again before the rescale is observed: %g, want 5", got)
	}
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	if err := client.tracker.Update(gvr, deployment("web", 5, 5, nil), ns); err != nil {
		t.Fatal(err)
	}
	// From 5, the period's 4 pods are used up: 5 stays (without the event, 9).
	eventually(t, "the observed rescale counted", func() bool {
		got, _ := src.Calls(cpuEvent(20), 5, time.Now())
		return got == 5
	})
}

// TestHPAForbidden: a Role without the HPAs leaves the workloads read and
// /readyz ready; the log and Unjudged say why no HPA is judged.
func TestHPAForbidden(t *testing.T) {
	client := newFakeClient(deployment("web", 3, 3, nil), hpa("web", "web", "500m", 10))
	client.PrependReactor("list", "horizontalpodautoscalers", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "autoscaling", Resource: "horizontalpodautoscalers"}, "",
			errors.New(`User "system:serviceaccount:lab:metricsender" cannot list resource "horizontalpodautoscalers"`))
	})
	rec := &recorder{}
	src, _, logs := start(t, kube.Config{Client: client, Deployments: parse(t, webCPU)}, rec)
	waitSynced(t, src)
	if err := src.Ready(); err != nil {
		t.Errorf("Ready = %v, want nil: the workloads are read", err)
	}
	eventually(t, "the workload observed", func() bool { return len(rec.get("web")) == 1 })
	if _, judged := src.Calls(cpuEvent(2), 3, time.Now()); judged {
		t.Error("judged an HPA that cannot be read")
	}
	const want = `kubernetes feedback: list horizontalpodautoscalers in namespace "lab": horizontalpodautoscalers.autoscaling is forbidden`
	if got := src.Unjudged()["*"]; !strings.HasPrefix(got, want) {
		t.Errorf(`Unjudged()["*"] = %q, want %q...`, got, want)
	}
	eventually(t, "a warning with the hint", func() bool {
		return strings.Contains(logs.String(), `level=WARN msg="kubernetes feedback: cannot read the HPAs; their reactions are not judged" feedback=kubernetes namespace=lab verb=list resource=horizontalpodautoscalers`) &&
			strings.Contains(logs.String(), `hint="to judge the HPA's reactions the sender's ServiceAccount needs get, list and watch on horizontalpodautoscalers (group autoscaling)`)
	})
}
