package deployments_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// customResources are the kinds outside the Kubernetes API the manifests
// use, with the spec keys each may set: their types are not vendored, so
// they are checked as unstructured objects against this list.
var customResources = map[string][]string{
	// The RabbitMQ Cluster Operator's RabbitmqCluster (its API reference).
	"rabbitmq.com/v1beta1/RabbitmqCluster": {
		"replicas", "image", "imagePullSecrets", "service", "persistence", "resources", "affinity",
		"tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps",
		"terminationGracePeriodSeconds", "delayStartSeconds", "secretBackend",
	},
}

// decodeCustomResource decodes data as an unstructured object when its
// apiVersion/kind is one of customResources (ok true), checking that it has
// a name, no unknown top-level or spec keys and no status.
func decodeCustomResource(data []byte) (obj runtime.Object, ok bool, err error) {
	var head struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, false, nil // the strict decoder reports it
	}
	apiVersion, kind := head.APIVersion, head.Kind
	specKeys, known := customResources[apiVersion+"/"+kind]
	if !known {
		return nil, false, nil
	}
	js, err := kyaml.ToJSON(data)
	if err != nil {
		return nil, true, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, true, fmt.Errorf("%s %s: %w", apiVersion, kind, err)
	}
	raw := u.Object
	var problems []string
	for k := range raw {
		if !slices.Contains([]string{"apiVersion", "kind", "metadata", "spec"}, k) {
			problems = append(problems, fmt.Sprintf("unknown top-level field %q", k))
		}
	}
	spec, _ := raw["spec"].(map[string]any)
	for k := range spec {
		if !slices.Contains(specKeys, k) {
			problems = append(problems, fmt.Sprintf("unknown field spec.%s", k))
		}
	}
	if u.GetName() == "" {
		problems = append(problems, "no metadata.name")
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, true, fmt.Errorf("%s %s: %s", apiVersion, kind, strings.Join(problems, "; "))
	}
	return u, true, nil
}

// TestRabbitmqCluster checks the optional operator-managed cluster: odd
// replicas (quorum queues need a majority), resources within limits, and
// persistent storage.
func TestRabbitmqCluster(t *testing.T) {
	u := object[*unstructured.Unstructured](t, render(t, "dev-rabbitmq/cluster-operator"), devBrokerName)
	replicas, found, err := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if err != nil || !found || replicas < 3 || replicas%2 == 0 {
		t.Errorf("spec.replicas = %d (found %v, %v): want an odd number >= 3", replicas, found, err)
	}
	if s, _, _ := unstructured.NestedString(u.Object, "spec", "persistence", "storage"); s == "" {
		t.Error("spec.persistence.storage is not set")
	}
	for _, r := range []string{"cpu", "memory"} {
		req, _, _ := unstructured.NestedString(u.Object, "spec", "resources", "requests", r)
		lim, _, _ := unstructured.NestedString(u.Object, "spec", "resources", "limits", r)
		if req == "" || lim == "" {
			t.Errorf("spec.resources %s: want a request and a limit, got %q and %q", r, req, lim)
		}
	}
}

func TestCustomResourceRefusesUnknownFields(t *testing.T) {
	_, ok, err := decodeCustomResource([]byte("apiVersion: rabbitmq.com/v1beta1\nkind: RabbitmqCluster\nmetadata: {name: x}\nspec: {replica: 3}\n"))
	if !ok || err == nil || !strings.Contains(err.Error(), "spec.replica") {
		t.Errorf("a typo in spec: ok %v, err %v; want an error naming spec.replica", ok, err)
	}
}
