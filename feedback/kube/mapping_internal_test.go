package kube

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/labsea/metricsender/generator"
)

func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func ctr(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func ptr[T any](v T) *T { return &v }

func TestTargetOf(t *testing.T) {
	tests := []struct {
		name string
		d    generator.Deployment
		want target
	}{
		{"no section: the Deployment of its name, the default resources",
			generator.Deployment{Name: "web"},
			target{app: "web", key: objKey{"Deployment", "web"}, resources: generator.DefaultResources}},
		{"every field",
			generator.Deployment{Name: "web", Kubernetes: &generator.Kubernetes{Kind: "StatefulSet", Name: "db", Container: "main",
				Allocation: "requests", Resources: map[string]string{"gpu": "amd.com/gpu", "ssd": "x.io/ssd"}}},
			target{app: "web", key: objKey{"StatefulSet", "db"}, container: "main", allocation: "requests",
				resources: map[string]string{"cpu": "cpu", "memory": "memory", "gpu": "amd.com/gpu", "ssd": "x.io/ssd"}}},
		{"a section without a name keeps the deployment's",
			generator.Deployment{Name: "web-3", Kubernetes: &generator.Kubernetes{Allocation: "limits"}},
			target{app: "web-3", key: objKey{"Deployment", "web-3"}, allocation: "limits", resources: generator.DefaultResources}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := targetOf(tc.d); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("targetOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWorkloadOf(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](3)},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Status: appsv1.StatefulSetStatus{ReadyReplicas: 1}}
	tests := []struct {
		name   string
		obj    any
		want   objKey
		wantOK bool
	}{
		{"deployment", dep, objKey{"Deployment", "web"}, true},
		{"statefulset", sts, objKey{"StatefulSet", "db"}, true},
		{"tombstone", cache.DeletedFinalStateUnknown{Key: "ns/db", Obj: sts}, objKey{"StatefulSet", "db"}, true},
		{"another type", &corev1.Pod{}, objKey{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := workloadOf(tc.obj)
			if ok != tc.wantOK || w.key != tc.want {
				t.Errorf("workloadOf = %+v, %v; want key %+v, %v", w, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRead(t *testing.T) {
	def := target{resources: generator.DefaultResources}
	tests := []struct {
		name        string
		w           workload
		t           target
		want        values
		wantProblem string
	}{
		{"limit wins over request, quantities in base units",
			workload{replicas: ptr[int32](4), ready: 3, containers: []corev1.Container{
				ctr("app", rl("cpu", "250m", "memory", "256Mi"), rl("cpu", "500m", "nvidia.com/gpu", "1")),
				ctr("sidecar", rl("cpu", "9"), nil)}},
			def,
			values{replicas: 4, ready: 3, allocation: map[string]float64{"cpu": 0.5, "memory": 256 << 20, "gpu": 1}}, ""},
		{"nil replicas is 1, no resources: no allocation",
			workload{containers: []corev1.Container{ctr("app", nil, nil)}},
			def, values{replicas: 1, ready: 0}, ""},
		{"pinned to requests",
			workload{replicas: ptr[int32](1), ready: 1, containers: []corev1.Container{ctr("app", rl("cpu", "250m"), rl("cpu", "2", "memory", "1Gi"))}},
			target{allocation: "requests", resources: generator.DefaultResources},
			values{replicas: 1, ready: 1, allocation: map[string]float64{"cpu": 0.25}}, ""},
		{"pinned to limits",
			workload{replicas: ptr[int32](1), containers: []corev1.Container{ctr("app", rl("cpu", "250m", "memory", "1Ki"), rl("cpu", "2"))}},
			target{allocation: "limits", resources: generator.DefaultResources},
			values{replicas: 1, allocation: map[string]float64{"cpu": 2}}, ""},
		{"named container, mapped resource",
			workload{replicas: ptr[int32](2), containers: []corev1.Container{ctr("init", rl("cpu", "1"), nil), ctr("main", rl("amd.com/gpu", "2", "cpu", "1500m"), nil)}},
			target{container: "main", resources: map[string]string{"cpu": "cpu", "gpu": "amd.com/gpu"}},
			values{replicas: 2, allocation: map[string]float64{"cpu": 1.5, "gpu": 2}}, ""},
		{"named container missing: replicas and ready only",
			workload{replicas: ptr[int32](2), ready: 2, containers: []corev1.Container{ctr("app", rl("cpu", "1"), nil), ctr("proxy", nil, nil)}},
			target{container: "main", resources: generator.DefaultResources},
			values{replicas: 2, ready: 2}, `no container "main" in the pod template (it has "app", "proxy")`},
		{"no container at all",
			workload{replicas: ptr[int32](0)},
			def, values{replicas: 0}, "the pod template has no container"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, problem := read(tc.w, tc.t)
			if !reflect.DeepEqual(got, tc.want) || problem != tc.wantProblem {
				t.Errorf("read = %+v, %q; want %+v, %q", got, problem, tc.want, tc.wantProblem)
			}
		})
	}
}

func TestObservation(t *testing.T) {
	base := values{replicas: 2, ready: 2, allocation: map[string]float64{"cpu": 0.5, "memory": 1024}}
	tests := []struct {
		name    string
		v       values
		last    *values
		want    generator.Observation
		changed bool
	}{
		{"first: everything", base, nil,
			generator.Observation{Source: "kubernetes", Replicas: 2, HasReplicas: true, Ready: 2, HasReady: true,
				Allocation: map[string]float64{"cpu": 0.5, "memory": 1024}}, true},
		{"nothing changed", base, &base, generator.Observation{Source: "kubernetes"}, false},
		{"scaled: replicas carries ready",
			values{replicas: 4, ready: 2, allocation: base.allocation}, &base,
			generator.Observation{Source: "kubernetes", Replicas: 4, HasReplicas: true, Ready: 2, HasReady: true}, true},
		{"ready alone",
			values{replicas: 2, ready: 1, allocation: base.allocation}, &base,
			generator.Observation{Source: "kubernetes", Ready: 1, HasReady: true}, true},
		{"one allocation changed, one gone (not reported)",
			values{replicas: 2, ready: 2, allocation: map[string]float64{"cpu": 0.75}}, &base,
			generator.Observation{Source: "kubernetes", Allocation: map[string]float64{"cpu": 0.75}}, true},
		{"a new allocation",
			values{replicas: 2, ready: 2, allocation: map[string]float64{"cpu": 0.5, "memory": 1024, "gpu": 1}}, &base,
			generator.Observation{Source: "kubernetes", Allocation: map[string]float64{"gpu": 1}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := tc.v.observation(tc.last)
			if !reflect.DeepEqual(got, tc.want) || changed != tc.changed {
				t.Errorf("observation = %+v, %v; want %+v, %v", got, changed, tc.want, tc.changed)
			}
		})
	}
}

func TestMergeKeepsVanishedAllocation(t *testing.T) {
	last := &values{replicas: 2, allocation: map[string]float64{"cpu": 0.5, "memory": 1024}}
	got := values{replicas: 3, allocation: map[string]float64{"cpu": 1}}.merge(last)
	want := values{replicas: 3, allocation: map[string]float64{"cpu": 1, "memory": 1024}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge = %+v, want %+v", got, want)
	}
	if last.allocation["cpu"] != 0.5 {
		t.Errorf("merge changed last: %+v", last)
	}
}
