package kube

import (
	"reflect"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labsea/metricsender/policy"
)

// external is an External metric on the bridge's series of app.
func external(name, app string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
		Target: target}}
}

func averageValue(q string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(resource.MustParse(q))}
}

func hpaOf(min *int32, max int32, b *autoscalingv2.HorizontalPodAutoscalerBehavior, ms ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "lab"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    min, MaxReplicas: max, Metrics: ms, Behavior: b,
		},
	}
}

// TestHPAConfig converts HPA specs to the stand-in's configuration: what
// is followed, and a clear reason for what is not.
func TestHPAConfig(t *testing.T) {
	def := hpaDefaults{tolerance: 0.1, stabilization: 5 * time.Minute}
	base := func(metric string, src policy.Source, target float64) policy.HPAConfig {
		c := policy.DefaultHPAConfig()
		c.Metric, c.Source, c.Target, c.Max = metric, src, target, 10
		return c
	}
	withRequests := &workload{containers: []corev1.Container{
		{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}},
		{Name: "side", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}},
	}}
	sends := []string{"cpu", "memory"}
	tests := []struct {
		name    string
		hpa     *autoscalingv2.HorizontalPodAutoscaler
		w       *workload
		want    func() policy.HPAConfig
		wantErr string
	}{
		{name: "External AverageValue on app=web: the app's total",
			hpa:  hpaOf(nil, 10, nil, external("cpu", "web", averageValue("500m"))),
			want: func() policy.HPAConfig { return base("cpu", policy.SourceExternal, 0.5) }},
		{name: "min and max",
			hpa: hpaOf(ptr[int32](2), 7, nil, external("cpu", "web", averageValue("1"))),
			want: func() policy.HPAConfig {
				c := base("cpu", policy.SourceExternal, 1)
				c.Min, c.Max = 2, 7
				return c
			}},
		{name: "Object AverageValue on deployments/web: the same formula",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				Metric:          autoscalingv2.MetricIdentifier{Name: "memory"}, Target: averageValue("1Gi")}}),
			want: func() policy.HPAConfig { return base("memory", policy.SourceExternal, 1<<30) }},
		{name: "Pods AverageValue: per replica",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "cpu"}, Target: averageValue("250m")}}),
			want: func() policy.HPAConfig { return base("cpu", policy.SourcePods, 0.25) }},
		{name: "Resource Utilization: a share of the pod's summed requests",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](60)}}}),
			w:    withRequests,
			want: func() policy.HPAConfig { return base("cpu", policy.SourcePods, 0.45) }},
		{name: "no metrics: the API's default, cpu at 80% utilization",
			hpa:  hpaOf(nil, 10, nil),
			w:    withRequests,
			want: func() policy.HPAConfig { return base("cpu", policy.SourcePods, 0.6) }},
		{name: "behavior: policies, select, windows; a rule left out keeps its defaults",
			hpa: hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](60), SelectPolicy: ptr(autoscalingv2.MinChangePolicySelect),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 60}, {Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}}},
			}, external("cpu", "web", averageValue("500m"))),
			want: func() policy.HPAConfig {
				c := base("cpu", policy.SourceExternal, 0.5)
				c.Behavior = policy.DefaultBehavior()
				c.Behavior.ScaleDown = policy.Rules{Select: policy.SelectMin, Window: ptr(time.Minute), Policies: []policy.ScalingPolicy{
					{Value: 4, Period: time.Minute}, {Percent: true, Value: 10, Period: time.Minute}}}
				return c
			}},
		{name: "behavior: {} is the API's defaults, the scale-down window the controller's",
			hpa: hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{}, external("cpu", "web", averageValue("500m"))),
			want: func() policy.HPAConfig {
				c := base("cpu", policy.SourceExternal, 0.5)
				c.Behavior = policy.DefaultBehavior()
				return c
			}},
		{name: "one tolerance given for both directions",
			hpa: hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   &autoscalingv2.HPAScalingRules{Tolerance: ptr(resource.MustParse("50m"))},
				ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: ptr(resource.MustParse("50m"))},
			}, external("cpu", "web", averageValue("500m"))),
			want: func() policy.HPAConfig {
				c := base("cpu", policy.SourceExternal, 0.5)
				c.Behavior, c.Tolerance = policy.DefaultBehavior(), 0.05
				return c
			}},

		{name: "a Value target",
			hpa:     hpaOf(nil, 10, nil, external("cpu", "web", autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(resource.MustParse("1"))})),
			wantErr: "metric External cpu: target type Value: not followed (the controller scales a Value target by the ready pods); use AverageValue"},
		{name: "an External selector of another app",
			hpa:     hpaOf(nil, 10, nil, external("cpu", "db", averageValue("1"))),
			wantErr: `metric External cpu: selector "app=db": want app=web, the series the bridge serves for app web (without it the controller sums every app's)`},
		{name: "an External metric without a selector",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "cpu"}, Target: averageValue("1")}}),
			wantErr: `metric External cpu: selector "": want app=web`},
		{name: "an Object on another deployment",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "db"},
				Metric:          autoscalingv2.MetricIdentifier{Name: "cpu"}, Target: averageValue("1")}}),
			wantErr: "metric Object cpu: describes Deployment db: the bridge serves app web as deployments/web"},
		{name: "Utilization without a request",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](60)}}}),
			w:       withRequests,
			wantErr: `metric Resource memory: utilization of memory: container "app" has no memory request (the controller fails too)`},
		{name: "ContainerResource",
			hpa: hpaOf(nil, 10, nil, autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name: corev1.ResourceCPU, Container: "app", Target: averageValue("1")}}),
			wantErr: "metric ContainerResource cpu: not followed (External, Object, Pods and Resource are)"},
		{name: "no metric the app sends",
			hpa:     hpaOf(nil, 10, nil, external("rps", "web", averageValue("1"))),
			wantErr: "none of its metrics (External rps) is one app web sends (cpu, memory)"},
		{name: "another metric beside the app's",
			hpa:     hpaOf(nil, 10, nil, external("cpu", "web", averageValue("1")), external("rps", "web", averageValue("1"))),
			wantErr: "it scales on 2 metrics (External cpu, External rps): the controller takes the highest proposal of them, the judge follows one"},
		{name: "minReplicas 0",
			hpa:     hpaOf(ptr[int32](0), 10, nil, external("cpu", "web", averageValue("1"))),
			wantErr: "minReplicas 0: scaling to zero is not followed"},
		{name: "tolerances that differ by direction",
			hpa: hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: ptr(resource.MustParse("50m"))},
			}, external("cpu", "web", averageValue("1"))),
			wantErr: "behavior: tolerance 0.05 up, 0.1 down: one tolerance for both directions is followed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hpaConfig(tc.hpa, "web", sends, tc.w, def)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v\nwant %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("config\n got %+v %+v\nwant %+v %+v", got, got.Behavior, want, want.Behavior)
			}
		})
	}
}

// The log's follows= is preview's spec: parsed back it is the same HPA,
// so `preview --operator hpa:<follows>` runs what the judge follows.
func TestDescribeIsASpec(t *testing.T) {
	def := hpaDefaults{tolerance: 0.1, stabilization: 5 * time.Minute}
	for _, h := range []*autoscalingv2.HorizontalPodAutoscaler{
		hpaOf(ptr[int32](2), 7, nil, external("cpu", "web", averageValue("500m"))),
		hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: ptr(autoscalingv2.DisabledPolicySelect)},
			ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](60),
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}}},
		}, external("cpu", "web", averageValue("1"))),
		hpaOf(nil, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{}, external("cpu", "web", averageValue("1"))),
	} {
		c, err := hpaConfig(h, "web", []string{"cpu"}, nil, def)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := policy.ParseSpec("hpa:" + describe(c))
		if err != nil {
			t.Fatalf("%s: %v", describe(c), err)
		}
		got := spec.Policy.(*policy.HPA).HPAConfig
		// A window left to the controller is written out as its value.
		if c.Behavior != nil && c.Behavior.ScaleDown.Window == nil {
			w := c.Stabilization
			c.Behavior.ScaleDown.Window = &w
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s parsed back\n got %+v %+v\nwant %+v %+v", describe(c), got, got.Behavior, c, c.Behavior)
		}
	}
}
