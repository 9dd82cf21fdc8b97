package deployments_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestServices(t *testing.T) {
	base, receiver, broker := render(t, "."), render(t, "receiver"), render(t, "dev-rabbitmq")
	tests := []struct {
		name       string
		service    *corev1.Service
		selects    *appsv1.Deployment   // the Deployment whose pods it must select
		notSelects []*appsv1.Deployment // Deployments whose pods it must not select
		ports      map[string]int32
	}{
		{
			name:       "metrics",
			service:    object[*corev1.Service](t, base, senderName),
			selects:    object[*appsv1.Deployment](t, base, senderName),
			notSelects: []*appsv1.Deployment{object[*appsv1.Deployment](t, receiver, receiverName)},
			ports:      map[string]int32{"http": httpPort},
		},
		{
			name:    "dev rabbitmq",
			service: object[*corev1.Service](t, broker, devBrokerName),
			selects: object[*appsv1.Deployment](t, broker, devBrokerName),
			notSelects: []*appsv1.Deployment{
				object[*appsv1.Deployment](t, base, senderName),
				object[*appsv1.Deployment](t, receiver, receiverName),
			},
			ports: map[string]int32{"amqp": 5672, "management": 15672},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := tt.service
			checkServiceSelects(t, svc, tt.selects)
			for _, d := range tt.notSelects {
				if selects(svc, d) {
					t.Errorf("service %s also selects the pods of %s", svc.Name, d.Name)
				}
			}
			got := map[string]int32{}
			for _, p := range svc.Spec.Ports {
				got[p.Name] = p.Port
			}
			if !maps.Equal(got, tt.ports) {
				t.Errorf("ports = %v, want %v", got, tt.ports)
			}
		})
	}
	t.Run("metrics service has scrape annotations", func(t *testing.T) {
		svc := object[*corev1.Service](t, base, senderName)
		want := map[string]string{
			"prometheus.io/scrape": "true",
			"prometheus.io/port":   strconv.Itoa(httpPort),
			"prometheus.io/path":   "/metrics",
		}
		for k, v := range want {
			if svc.Annotations[k] != v {
				t.Errorf("annotation %s = %q, want %q", k, svc.Annotations[k], v)
			}
		}
	})
}

// checkServiceSelects asserts svc selects d's pods and every service port
// lands on a port the pod declares.
func checkServiceSelects(t *testing.T, svc *corev1.Service, d *appsv1.Deployment) {
	t.Helper()
	if !selects(svc, d) {
		t.Errorf("service %s selector %v does not select the pods of %s (%v)",
			svc.Name, svc.Spec.Selector, d.Name, d.Spec.Template.Labels)
	}
	var declared []intstr.IntOrString
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			declared = append(declared, intstr.FromString(p.Name), intstr.FromInt32(p.ContainerPort))
		}
	}
	for _, p := range svc.Spec.Ports {
		target := p.TargetPort
		if target == (intstr.IntOrString{}) {
			target = intstr.FromInt32(p.Port)
		}
		if !slices.Contains(declared, target) {
			t.Errorf("service %s port %s: targetPort %s is not a port of %s", svc.Name, p.Name, target.String(), d.Name)
		}
	}
}

func selects(svc *corev1.Service, d *appsv1.Deployment) bool {
	if len(svc.Spec.Selector) == 0 {
		return false
	}
	return labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels))
}

// TestKustomizeBuild checks, for each kustomization applied on its own,
// the kinds it renders, the name label, and what the label transformer did
// to selectors: that is only visible after a build.
func TestKustomizeBuild(t *testing.T) {
	tests := []struct {
		dir       string
		wantKinds []string
		nameLabel string
		// alongside are dirs applied to the same namespace: their pods count
		// when checking what each Service selects.
		alongside []string
	}{
		{dir: ".", wantKinds: []string{"ConfigMap", "Deployment", "Secret", "Service"}, nameLabel: "metricsender", alongside: []string{"receiver", "dev-rabbitmq"}},
		{dir: "receiver", wantKinds: []string{"Deployment"}, nameLabel: "metricsender"},
		{dir: "dev-rabbitmq", wantKinds: []string{"Deployment", "Service"}, nameLabel: "rabbitmq", alongside: []string{".", "receiver"}},
		{dir: "dev-rabbitmq/cluster-operator", wantKinds: []string{"RabbitmqCluster"}, nameLabel: ""},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			objs := render(t, tt.dir)
			for _, obj := range objs {
				checkNameLabel(t, obj, tt.nameLabel)
			}
			for _, d := range all[*appsv1.Deployment](objs) {
				sel := labels.SelectorFromSet(d.Spec.Selector.MatchLabels)
				if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					t.Errorf("deployment %s: selector %v misses its pods %v", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
				}
			}
			if got := objs.kinds(); !slices.Equal(got, tt.wantKinds) {
				t.Errorf("kinds = %v, want %v", got, tt.wantKinds)
			}
			var deployments []*appsv1.Deployment
			for _, dir := range append([]string{tt.dir}, tt.alongside...) {
				deployments = append(deployments, all[*appsv1.Deployment](render(t, dir))...)
			}
			// With everything applied side by side, each Service selects the
			// pods of exactly one Deployment.
			for _, svc := range all[*corev1.Service](objs) {
				var hit []string
				for _, d := range deployments {
					if selects(svc, d) {
						hit = append(hit, d.Name)
					}
				}
				if len(hit) != 1 {
					t.Errorf("service %s selects the pods of %v, want exactly one deployment", svc.Name, hit)
				}
			}
		})
	}
}

func checkNameLabel(t *testing.T, obj runtime.Object, want string) {
	t.Helper()
	meta, ok := obj.(interface{ GetLabels() map[string]string })
	if !ok {
		t.Fatalf("%T has no labels", obj)
	}
	if got := meta.GetLabels()["app.kubernetes.io/name"]; got != want {
		t.Errorf("%T: label app.kubernetes.io/name = %q, want %q", obj, got, want)
	}
}
