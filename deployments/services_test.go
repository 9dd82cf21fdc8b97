package deployments_test

import (
	"os"
	"os/exec"
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
	m := loadManifests(t)
	tests := []struct {
		name       string
		service    string
		selects    string   // the Deployment whose pods it must select
		notSelects []string // Deployments whose pods it must not select
		ports      map[string]int32
	}{
		{
			name: "metrics", service: serviceFile, selects: senderFile,
			notSelects: []string{receiverFile},
			ports:      map[string]int32{"http": httpPort},
		},
		{
			name: "dev rabbitmq", service: "dev-rabbitmq/service.yaml", selects: "dev-rabbitmq/deployment.yaml",
			notSelects: []string{senderFile, receiverFile},
			ports:      map[string]int32{"amqp": 5672, "management": 15672},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := m.service(t, tt.service)
			target := m.deployment(t, tt.selects)
			checkServiceSelects(t, svc, target)
			for _, other := range tt.notSelects {
				d := m.deployment(t, other)
				if selects(svc, d) {
					t.Errorf("service %s also selects the pods of %s", svc.Name, d.Name)
				}
			}
			got := map[string]int32{}
			for _, p := range svc.Spec.Ports {
				got[p.Name] = p.Port
			}
			if !mapsEqual(got, tt.ports) {
				t.Errorf("ports = %v, want %v", got, tt.ports)
			}
		})
	}
	t.Run("metrics service has scrape annotations", func(t *testing.T) {
		svc := m.service(t, serviceFile)
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

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestKustomizeBuild renders each kustomization with kubectl's built-in
// kustomize, decodes the output strictly, and checks what the label
// transformer did to selectors: that is only visible after a build.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		msg := "kubectl not on PATH: kustomize output not checked (apt-get install kubectl, or any kubectl >= 1.27)"
		if os.Getenv("METRICSENDER_REQUIRE_KUBECTL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
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
	dec := newStrictDecoder(t)
	rendered := map[string][]runtime.Object{} // kubectl is slow to start: render each dir once
	render := func(t *testing.T, dir string) []runtime.Object {
		t.Helper()
		if objs, ok := rendered[dir]; ok {
			return objs
		}
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderrOf(err))
		}
		var objs []runtime.Object
		for _, doc := range splitYAMLDocuments(t, out) {
			obj, err := decodeYAMLObject(dec, doc)
			if err != nil {
				t.Fatalf("%s: rendered object: %v\n%s", dir, err, doc)
			}
			objs = append(objs, obj)
		}
		rendered[dir] = objs
		return objs
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			var kinds []string
			var services []*corev1.Service
			for _, obj := range render(t, tt.dir) {
				kinds = append(kinds, obj.GetObjectKind().GroupVersionKind().Kind)
				checkNameLabel(t, obj, tt.nameLabel)
				switch o := obj.(type) {
				case *appsv1.Deployment:
					sel := labels.SelectorFromSet(o.Spec.Selector.MatchLabels)
					if !sel.Matches(labels.Set(o.Spec.Template.Labels)) {
						t.Errorf("deployment %s: selector %v misses its pods %v", o.Name, o.Spec.Selector.MatchLabels, o.Spec.Template.Labels)
					}
				case *corev1.Service:
					services = append(services, o)
				}
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tt.wantKinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.wantKinds)
			}
			var deployments []*appsv1.Deployment
			for _, dir := range append([]string{tt.dir}, tt.alongside...) {
				for _, obj := range render(t, dir) {
					if d, ok := obj.(*appsv1.Deployment); ok {
						deployments = append(deployments, d)
					}
				}
			}
			// With everything applied side by side, each Service selects the
			// pods of exactly one Deployment.
			for _, svc := range services {
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

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
