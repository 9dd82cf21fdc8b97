//go:build kubeapiserver

package realhpa_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// deployment is a Deployment of an image nothing pulls: with no kubelet
// its pods stay Pending, which the replicaset controller still counts in
// status.replicas, what an External AverageValue target divides by.
func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: name + ":test"}}},
			},
		},
	}
}

// externalHPA is an autoscaling/v2 HPA of Deployment name on the External
// metric metric{app=name} with an AverageValue target.
func externalHPA(ns, name, metric, target string, min, max int32, behavior *autoscalingv2.HorizontalPodAutoscalerBehavior) *autoscalingv2.HorizontalPodAutoscaler {
	avg := resource.MustParse(target)
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    &min,
			MaxReplicas:    max,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ExternalMetricSourceType,
				External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: metric,
						Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg},
				},
			}},
			Behavior: behavior,
		},
	}
}

// create creates a Deployment and its HPA.
func create(t *testing.T, ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment, h *autoscalingv2.HorizontalPodAutoscaler) {
	t.Helper()
	if _, err := cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Deployment %s: %v", d.Name, err)
	}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers(h.Namespace).Create(ctx, h, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create HPA %s: %v", h.Name, err)
	}
}

func ptr[T any](v T) *T { return &v }
