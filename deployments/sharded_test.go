package deployments_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	shardedDir      = "sharded"
	shardedSet      = "sharded/statefulset.yaml"
	shardedHeadless = "sharded/service-headless.yaml"
	shardedPDB      = "sharded/poddisruptionbudget.yaml"
)

func (m manifests) statefulSet(t *testing.T, path string) *appsv1.StatefulSet {
	t.Helper()
	s, ok := m[path].(*appsv1.StatefulSet)
	if !ok {
		t.Fatalf("%s: want a StatefulSet, got %T", path, m[path])
	}
	return s
}

func (m manifests) pdb(t *testing.T, path string) *policyv1.PodDisruptionBudget {
	t.Helper()
	p, ok := m[path].(*policyv1.PodDisruptionBudget)
	if !ok {
		t.Fatalf("%s: want a PodDisruptionBudget, got %T", path, m[path])
	}
	return p
}

// shardedContainer is the StatefulSet's metricsender container.
func shardedContainer(t *testing.T, s *appsv1.StatefulSet) corev1.Container {
	t.Helper()
	for _, c := range s.Spec.Template.Spec.Containers {
		if c.Name == "metricsender" {
			return c
		}
	}
	t.Fatalf("statefulset %s: no container metricsender", s.Name)
	return corev1.Container{}
}

// TestSharded checks the component's StatefulSet: one pod per shard, all
// started at once, the shard count equal to the replicas, the base's one
// ConfigMap and Secret, a headless governing Service and a PDB over the pods.
func TestSharded(t *testing.T) {
	m := loadManifests(t)
	s := m.statefulSet(t, shardedSet)
	pod := s.Spec.Template.Spec
	c := shardedContainer(t, s)
	t.Run("one pod per shard", func(t *testing.T) {
		shards, ok := envValue(c, "METRICSENDER_SHARDS")
		n, err := strconv.Atoi(shards)
		if !ok || err != nil || s.Spec.Replicas == nil || int32(n) != *s.Spec.Replicas || n < 2 {
			t.Errorf("METRICSENDER_SHARDS = %q, replicas = %v: want equal, >= 2 (pod i sends shard i of N)", shards, s.Spec.Replicas)
		}
		if _, ok := envValue(c, "METRICSENDER_SHARD"); ok {
			t.Error("METRICSENDER_SHARD is set: every pod would send the same shard; the ordinal comes from HOSTNAME")
		}
		if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
			t.Errorf("podManagementPolicy = %q, want Parallel (shards are independent)", s.Spec.PodManagementPolicy)
		}
		if len(c.Args) == 0 || c.Args[0] != "send" {
			t.Errorf("args = %q, want send first", c.Args)
		}
	})
	t.Run("selector matches the pods", func(t *testing.T) {
		sel, err := labels.ValidatedSelectorFromSet(s.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(labels.Set(s.Spec.Template.Labels)) {
			t.Errorf("selector %v does not match the pod labels %v (%v)", s.Spec.Selector, s.Spec.Template.Labels, err)
		}
	})
	t.Run("headless governing service", func(t *testing.T) {
		svc := m.service(t, shardedHeadless)
		if s.Spec.ServiceName != svc.Name {
			t.Errorf("serviceName = %q, want the headless Service %q", s.Spec.ServiceName, svc.Name)
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("service %s clusterIP = %q, want None", svc.Name, svc.Spec.ClusterIP)
		}
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(s.Spec.Template.Labels)) {
			t.Errorf("service %s selector %v misses the shards' pods %v", svc.Name, svc.Spec.Selector, s.Spec.Template.Labels)
		}
	})
	t.Run("pdb covers the shards", func(t *testing.T) {
		p := m.pdb(t, shardedPDB)
		sel, err := labels.ValidatedSelectorFromSet(p.Spec.Selector.MatchLabels)
		if err != nil || !sel.Matches(labels.Set(s.Spec.Template.Labels)) {
			t.Errorf("pdb selector %v misses the pods %v (%v)", p.Spec.Selector, s.Spec.Template.Labels, err)
		}
		if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
			t.Error("pdb sets neither maxUnavailable nor minAvailable")
		}
	})
	t.Run("the base's config, secret and pod rules", func(t *testing.T) {
		checkURIFromSecret(t, c)
		checkConfigMount(t, pod, c)
		checkHTTP(t, c)
		checkResources(t, c)
		checkSecurity(t, pod, c)
	})
}

// TestKustomizeSharded renders an overlay of the base with the sharded
// component, as a user would write one outside the tree: the Deployment is
// gone, the StatefulSet, headless Service and PDB are in, and every selector
// still matches the shards' pods after the label transformer.
func TestKustomizeSharded(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		msg := "kubectl not on PATH: the sharded component is not rendered (apt-get install kubectl)"
		if os.Getenv("METRICSENDER_REQUIRE_KUBECTL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	overlay := t.TempDir()
	base, err := filepath.Abs(deploymentsDir)
	if err != nil {
		t.Fatal(err)
	}
	// kustomize takes only relative paths to other kustomizations.
	rel := func(dir string) string {
		r, err := filepath.Rel(overlay, filepath.Join(base, dir))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
		"resources: [" + rel(".") + "]\ncomponents: [" + rel(shardedDir) + "]\n"
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "kustomize", overlay).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize (base + sharded): %v\n%s", err, stderrOf(err))
	}
	dec := newStrictDecoder(t)
	var kinds []string
	var set *appsv1.StatefulSet
	var selectors []labels.Selector
	for _, doc := range splitYAMLDocuments(t, out) {
		obj, err := decodeYAMLObject(dec, doc)
		if err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		kinds = append(kinds, obj.GetObjectKind().GroupVersionKind().Kind)
		checkNameLabel(t, obj, "metricsender")
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			set = o
			selectors = append(selectors, labels.SelectorFromSet(o.Spec.Selector.MatchLabels))
		case *policyv1.PodDisruptionBudget:
			selectors = append(selectors, labels.SelectorFromSet(o.Spec.Selector.MatchLabels))
		case *corev1.Service:
			selectors = append(selectors, labels.SelectorFromSet(o.Spec.Selector))
		}
	}
	slices.Sort(kinds)
	want := []string{"ConfigMap", "PodDisruptionBudget", "Secret", "Service", "Service", "StatefulSet"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds = %v, want %v (the base's Deployment replaced by the StatefulSet)", kinds, want)
	}
	for _, sel := range selectors {
		if !sel.Matches(labels.Set(set.Spec.Template.Labels)) {
			t.Errorf("selector %v misses the shards' pods %v", sel, set.Spec.Template.Labels)
		}
	}
}
