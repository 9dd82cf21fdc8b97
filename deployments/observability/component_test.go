package observability_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// object is a rendered manifest, read as far as the checks need.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// Service
		Ports []struct {
			Name string `yaml:"name"`
		} `yaml:"ports"`
		// ServiceMonitor, PodMonitor
		Selector struct {
			MatchLabels      map[string]string `yaml:"matchLabels"`
			MatchExpressions []struct {
				Key      string   `yaml:"key"`
				Operator string   `yaml:"operator"`
				Values   []string `yaml:"values"`
			} `yaml:"matchExpressions"`
		} `yaml:"selector"`
		Endpoints           []struct{ Port, Path string } `yaml:"endpoints"`
		PodMetricsEndpoints []struct{ Port, Path string } `yaml:"podMetricsEndpoints"`
		// Deployment
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					Env []struct{ Name, Value string } `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// renderOverlay writes an overlay of the base and the receiver with the
// component, outside the tree (kustomize refuses a base that contains its
// overlay), and renders it with the kustomize API kubectl embeds.
func renderOverlay(t *testing.T) []object {
	t.Helper()
	dir := t.TempDir()
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	rel := func(p string) string {
		r, err := filepath.Rel(dir, filepath.Join(here, p))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
		"resources: [" + rel("..") + ", " + rel("../receiver") + "]\n" +
		"components: [" + rel(".") + "]\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build of an overlay with the component: %v", err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var objs []object
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			break
		}
		objs = append(objs, o)
	}
	return objs
}

func find(t *testing.T, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			return o
		}
	}
	t.Fatalf("the rendered overlay has no %s %s", kind, name)
	return object{}
}

// subset tells whether every label of sel is in labels with that value.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// TestComponentRenders: in an overlay of the base and the receiver, the
// ServiceMonitor selects the sender's Service by its labels and port
// name, the PodMonitor the receiver's pods by their labels and port name
// (on which the receiver really serves), the dashboard ConfigMap carries
// dashboard.json under the sidecar's label, and the PrometheusRule is
// there.
func TestComponentRenders(t *testing.T) {
	objs := renderOverlay(t)

	svc := find(t, objs, "Service", "metricsender")
	sm := find(t, objs, "ServiceMonitor", "metricsender")
	if !subset(sm.Spec.Selector.MatchLabels, svc.Metadata.Labels) || len(sm.Spec.Selector.MatchLabels) == 0 {
		t.Errorf("ServiceMonitor selects %v; the Service is labelled %v", sm.Spec.Selector.MatchLabels, svc.Metadata.Labels)
	}
	for _, ep := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(svc.Spec.Ports, func(p struct {
			Name string `yaml:"name"`
		}) bool {
			return p.Name == ep.Port
		}) || ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoint %+v: no such Service port, or not /metrics", ep)
		}
	}

	recv := find(t, objs, "Deployment", "metricsender-receiver")
	pm := find(t, objs, "PodMonitor", "metricsender-pods")
	podLabels := recv.Spec.Template.Metadata.Labels
	if !subset(pm.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("PodMonitor matchLabels %v do not select the receiver's pods %v", pm.Spec.Selector.MatchLabels, podLabels)
	}
	for _, e := range pm.Spec.Selector.MatchExpressions {
		if e.Operator != "In" || !slices.Contains(e.Values, podLabels[e.Key]) {
			t.Errorf("PodMonitor expression %+v does not select the receiver's pods %v", e, podLabels)
		}
	}
	c := recv.Spec.Template.Spec.Containers[0]
	for _, ep := range pm.Spec.PodMetricsEndpoints {
		i := slices.IndexFunc(c.Ports, func(p struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		}) bool {
			return p.Name == ep.Port
		})
		if i < 0 || ep.Path != "/metrics" {
			t.Errorf("PodMonitor endpoint %+v: no such receiver port, or not /metrics", ep)
			continue
		}
		serves := slices.ContainsFunc(c.Env, func(e struct{ Name, Value string }) bool {
			return e.Name == "METRICSENDER_HTTP_ADDR" && e.Value == ":"+strconv.Itoa(c.Ports[i].ContainerPort)
		})
		if !serves {
			t.Errorf("the receiver does not serve HTTP on port %s (%d): METRICSENDER_HTTP_ADDR is not set to it", ep.Port, c.Ports[i].ContainerPort)
		}
	}

	cm := find(t, objs, "ConfigMap", "metricsender-dashboard")
	if cm.Metadata.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v, want grafana_dashboard: \"1\"", cm.Metadata.Labels)
	}
	want, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["metricsender.json"] != string(want) {
		t.Errorf("the dashboard ConfigMap's metricsender.json is not %s", dashboardPath)
	}
	find(t, objs, "PrometheusRule", "metricsender")
	rulesWant, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if rc := find(t, objs, "ConfigMap", "metricsender-rules"); rc.Data["metricsender.rules.yaml"] != string(rulesWant) {
		t.Errorf("the rules ConfigMap's metricsender.rules.yaml is not %s", rulesPath)
	}
}
