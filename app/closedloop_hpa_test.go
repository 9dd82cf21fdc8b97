//go:build kubeapiserver

package app_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/labsea/metricsender/internal/promtest"
	"github.com/labsea/metricsender/judge"
)

// createHPA creates the Deployment api (1 replica) and its HPA: External
// cpu of app=api, AverageValue 500m, 1 to 10 replicas, no behavior.
func createHPA(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "loop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "api"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "api:test"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("loop").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	target := resource.MustParse("500m")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "loop"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"},
			MinReplicas:    &one, MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "cpu", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &target}}}},
		},
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("loop").Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// playHPA is the HPA controller: once the judge holds api's request for
// 4 replicas (its total 2 over 500m), it scales api to 4, then waits until
// /metrics counts the reaction applied.
func playHPA(t *testing.T, ctx context.Context, cs kubernetes.Interface, addr string, run *loopRun) {
	t.Helper()
	sample := func(name string, labels map[string]string) float64 {
		fams, _ := promtest.Scrape(t, "http://"+addr)
		v, _ := promtest.Sample(fams, name, labels)
		return v
	}
	run.waitFor(t, ctx, "api's HPA request open", func() bool { return sample("metricsender_operator_hpa_open_requests", nil) == 1 })
	scale, err := cs.AppsV1().Deployments("loop").GetScale(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 4
	if _, err := cs.AppsV1().Deployments("loop").UpdateScale(ctx, "api", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	run.waitFor(t, ctx, "the HPA's reaction applied on /metrics", func() bool {
		return sample("metricsender_operator_hpa_requests_total", map[string]string{"result": "applied"}) == 1
	})
	if open, unjudged := sample("metricsender_operator_hpa_open_requests", nil), sample("metricsender_operator_hpa_unjudged", nil); open != 0 || unjudged != 0 {
		t.Errorf("/metrics: hpa open %g, unjudged %g; want 0 and 0", open, unjudged)
	}
}

// checkHPAReport checks the summary line and the report: one HPA request,
// applied, for api, none unjudged.
func checkHPAReport(t *testing.T, stderr, path string) {
	t.Helper()
	const want = " hpa_requests=1 hpa_applied=1 hpa_superseded=0 hpa_open=0 hpa_reaction_p50="
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, " hpa_late=0 hpa_unjudged=0") {
		t.Errorf("summary lacks%s... hpa_late=0 hpa_unjudged=0:\n%s", want, stderr)
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "hpa_requests=") {
			t.Logf("summary: %s", l)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep judge.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	h := rep.HPA
	if h == nil || h.Requests != 1 || h.Applied != 1 || len(h.Apps) != 1 || h.Apps[0].App != "api" || h.Apps[0].Metric != "replicas" ||
		h.ReactionMax == nil || len(h.Unjudged) != 0 {
		t.Errorf("report's hpa: %s", b)
	}
	hb, _ := json.Marshal(h)
	t.Logf("report's hpa: %s", hb)
}
