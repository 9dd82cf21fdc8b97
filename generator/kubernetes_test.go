package generator_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/labsea/metricsender/generator"
)

// kubeYAML is a config whose only deployment, a, has the given
// `kubernetes:` section (line 5).
func kubeYAML(section string) string {
	return "deployments:\n  - name: a\n    metrics:\n      m: [1]\n    kubernetes: " + section + "\n"
}

// badKubes are `kubernetes:` sections with known problems (see badConfigs).
var badKubes = []struct {
	name, yaml string
	want       []string
}{
	{"unknown kubernetes key", kubeYAML("{kin: Deployment}"),
		[]string{`bad.yaml:5:18: deployments[0].kubernetes.kin: unknown key (did you mean "kind"?)`}},
	{"kind of another case", kubeYAML("{kind: deployment}"),
		[]string{`bad.yaml:5:18: deployments[0].kubernetes.kind: want Deployment or StatefulSet, got "deployment"`}},
	{"kind not a workload", kubeYAML("{kind: DaemonSet}"),
		[]string{`bad.yaml:5:18: deployments[0].kubernetes.kind: want Deployment or StatefulSet, got "DaemonSet"`}},
	{"name not an object name", kubeYAML("{name: Web_1}"),
		[]string{`bad.yaml:5:18: deployments[0].kubernetes.name: not a Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253, starting and ending with a letter or digit): "Web_1"`}},
	{"container not a label, allocation unknown", kubeYAML("{container: a.b, allocation: request}"),
		[]string{
			`bad.yaml:5:18: deployments[0].kubernetes.container: not a container name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit): "a.b"`,
			`bad.yaml:5:34: deployments[0].kubernetes.allocation: want requests or limits, got "request"`,
		}},
	{"resources not a mapping", kubeYAML("{resources: [gpu]}"),
		[]string{"bad.yaml:5:18: deployments[0].kubernetes.resources: want a mapping, got a list"}},
	{"resource name bad, metric name reserved", kubeYAML("{resources: {gpu: amd.com/gpu/x, iswire.y: cpu}}"),
		[]string{
			`bad.yaml:5:30: deployments[0].kubernetes.resources.gpu: not a resource name (like memory or amd.com/gpu): "amd.com/gpu/x"`,
			`bad.yaml:5:50: deployments[0].kubernetes.resources.iswire.y: metric name may not start with "iswire." (reserved for the codec)`,
		}},
	{"namespace not a label", kubeYAML("{namespace: Shop.eu}"),
		[]string{`bad.yaml:5:18: deployments[0].kubernetes.namespace: not a namespace name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit): "Shop.eu"`}},
	{"kubernetes not a mapping", kubeYAML("web"),
		[]string{"bad.yaml:5:5: deployments[0].kubernetes: want a mapping, got a scalar"}},
	{"a name at the top level", "kubernetes: {name: web}\n" + okDeployments,
		[]string{"bad.yaml:1:14: kubernetes.name: only a deployment's kubernetes: section names an object"}},
}

func TestParseKubernetes(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       map[string]*generator.Kubernetes // by deployment
	}{
		{"none", "deployments:\n  - name: a\n    metrics:\n      m: [1]\n",
			map[string]*generator.Kubernetes{"a": nil}},
		{"every field", kubeYAML("{kind: StatefulSet, name: web-db, namespace: shop, container: main, allocation: limits, resources: {gpu: amd.com/gpu, ssd: example.com/ssd}}"),
			map[string]*generator.Kubernetes{"a": {Kind: "StatefulSet", Name: "web-db", Namespace: "shop", Container: "main", Allocation: "limits",
				Resources: map[string]string{"gpu": "amd.com/gpu", "ssd": "example.com/ssd"}}}},
		{"empty section", kubeYAML("{}"), map[string]*generator.Kubernetes{"a": {}}},
		{"top level only: every deployment shares it",
			"kubernetes:\n  allocation: requests\n  resources: {gpu: amd.com/gpu}\ndeployments:\n  - name: a\n    metrics:\n      m: [1]\n  - name: b\n    count: 2\n    metrics:\n      m: [1]\n",
			map[string]*generator.Kubernetes{
				"a":   {Allocation: "requests", Resources: map[string]string{"gpu": "amd.com/gpu"}},
				"b-0": {Allocation: "requests", Resources: map[string]string{"gpu": "amd.com/gpu"}},
				"b-1": {Allocation: "requests", Resources: map[string]string{"gpu": "amd.com/gpu"}},
			}},
		{"a deployment's own over the top level, field by field and key by key",
			"kubernetes: {kind: StatefulSet, namespace: shop, container: app, allocation: limits, resources: {gpu: amd.com/gpu, ssd: x.io/ssd}}\n" +
				"deployments:\n  - name: a\n    kubernetes:\n      kind: Deployment\n      name: other\n      resources: {ssd: y.io/ssd}\n    metrics:\n      m: [1]\n" +
				"  - name: b\n    metrics:\n      m: [1]\n",
			map[string]*generator.Kubernetes{
				"a": {Kind: "Deployment", Name: "other", Namespace: "shop", Container: "app", Allocation: "limits",
					Resources: map[string]string{"gpu": "amd.com/gpu", "ssd": "y.io/ssd"}},
				"b": {Kind: "StatefulSet", Namespace: "shop", Container: "app", Allocation: "limits",
					Resources: map[string]string{"gpu": "amd.com/gpu", "ssd": "x.io/ssd"}},
			}},
		{"through an alias (the whole-document parse)",
			"deployments:\n  - name: a\n    kubernetes: &k {kind: StatefulSet}\n    metrics:\n      m: [1]\n  - name: b\n    kubernetes: *k\n    metrics:\n      m: [1]\n",
			map[string]*generator.Kubernetes{"a": {Kind: "StatefulSet"}, "b": {Kind: "StatefulSet"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := generator.Parse("k.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*generator.Kubernetes{}
			for _, d := range cfg.Deployments {
				got[d.Name] = d.Kubernetes
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Kubernetes by deployment:\n got %s\nwant %s", kubeString(got), kubeString(tc.want))
			}
		})
	}
}

func kubeString(m map[string]*generator.Kubernetes) string {
	out := ""
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out += fmt.Sprintf("%s: %+v; ", name, m[name])
	}
	return out
}
