package deployments_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// repoRoot is the module root, seen from this package's directory (go test
// runs each package in its own directory).
const repoRoot = ".."

// deploymentsDir is the manifests tree, seen from the test's working directory.
const deploymentsDir = "."

// newStrictDecoder decodes YAML into the typed core/v1, apps/v1, policy/v1,
// rbac/v1, apiregistration.k8s.io/v1 (the metrics API bridge's
// APIServices) and the Prometheus Operator's monitoring.coreos.com/v1 objects
// the way the API server's strict field validation does: an unknown or
// duplicate field, or a kind outside those groups, is an error.
func newStrictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
		monitoringv1.AddToScheme, apiregistrationv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatalf("register kubernetes types: %v", err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeYAMLObject decodes one object: a customResources kind as an
// unstructured object checked against its field list, any other kind
// strictly into its Go type.
func decodeYAMLObject(dec runtime.Decoder, data []byte) (runtime.Object, error) {
	if bytes.Contains(data, []byte("\n---")) {
		return nil, errors.New("one object per file, please (found a --- separator)")
	}
	if obj, ok, err := decodeCustomResource(data); ok {
		return obj, err
	}
	obj, _, err := dec.Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("strict decode: %w", err)
	}
	return obj, nil
}

// objects are the decoded objects of one kustomize render, in its order.
type objects []runtime.Object

// object returns the one object of Go type T named name, failing the test
// when there is none or more than one.
func object[T runtime.Object](t *testing.T, objs objects, name string) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if typed, ok := o.(T); ok && nameOf(t, o) == name {
			found = append(found, typed)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T named %q in the render, found %d (kinds %v)", zero, name, len(found), objs.kinds())
	}
	return found[0]
}

// all returns every object of Go type T.
func all[T runtime.Object](objs objects) []T {
	var out []T
	for _, o := range objs {
		if typed, ok := o.(T); ok {
			out = append(out, typed)
		}
	}
	return out
}

// kinds lists the objects' kinds, sorted.
func (objs objects) kinds() []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetObjectKind().GroupVersionKind().Kind)
	}
	slices.Sort(out)
	return out
}

func nameOf(t *testing.T, obj runtime.Object) string {
	t.Helper()
	return metaOf(t, obj).GetName()
}

// metaOf returns an object's metadata.
func metaOf(t *testing.T, obj runtime.Object) metav1.Object {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatalf("%T has no object metadata: %v", obj, err)
	}
	return m
}

// container returns the named container of a pod template.
func container(t *testing.T, tmpl corev1.PodTemplateSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range tmpl.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("pod template %v: no container %q", tmpl.Labels, name)
	return corev1.Container{}
}

// envNames lists the names of a container's env entries.
func envNames(c corev1.Container) []string {
	names := make([]string, 0, len(c.Env))
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	return names
}

// envValue returns a literal env value of a container.
func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}
