package deployments_test

import (
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
	shardedHeadless = "metricsender-shards"
)

// TestSharded renders an overlay of the base with the sharded component,
// as a user writes one outside the tree, and checks the StatefulSet: one
// pod per shard, all started at once, the shard count equal to the
// replicas, the base's one ConfigMap and Secret, a headless governing
// Service and a PDB over the pods; the base's Deployment is gone, and every
// selector still matches the shards' pods after the label transformer.
func TestSharded(t *testing.T) {
	objs := render(t, ".", shardedDir)
	s := object[*appsv1.StatefulSet](t, objs, senderName)
	pod := s.Spec.Template.Spec
	c := container(t, s.Spec.Template, "metricsender")
	t.Run("the base's Deployment replaced by the StatefulSet", func(t *testing.T) {
		want := []string{"ConfigMap", "PodDisruptionBudget", "Secret", "Service", "Service", "StatefulSet"}
		if got := objs.kinds(); !slices.Equal(got, want) {
			t.Errorf("kinds = %v, want %v", got, want)
		}
		for _, obj := range objs {
			checkNameLabel(t, obj, "metricsender")
		}
	})
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
	t.Run("selectors match the pods", func(t *testing.T) {
		pods := labels.Set(s.Spec.Template.Labels)
		selectors := map[string]map[string]string{"statefulset": s.Spec.Selector.MatchLabels}
		for _, p := range all[*policyv1.PodDisruptionBudget](objs) {
			selectors["pdb "+p.Name] = p.Spec.Selector.MatchLabels
		}
		for _, svc := range all[*corev1.Service](objs) {
			selectors["service "+svc.Name] = svc.Spec.Selector
		}
		for what, sel := range selectors {
			s, err := labels.ValidatedSelectorFromSet(sel)
			if len(sel) == 0 || err != nil || !s.Matches(pods) {
				t.Errorf("%s selector %v misses the shards' pods %v (%v)", what, sel, pods, err)
			}
		}
	})
	t.Run("headless governing service", func(t *testing.T) {
		svc := object[*corev1.Service](t, objs, shardedHeadless)
		if s.Spec.ServiceName != svc.Name {
			t.Errorf("serviceName = %q, want the headless Service %q", s.Spec.ServiceName, svc.Name)
		}
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("service %s clusterIP = %q, want None", svc.Name, svc.Spec.ClusterIP)
		}
	})
	t.Run("pdb covers the shards", func(t *testing.T) {
		p := object[*policyv1.PodDisruptionBudget](t, objs, senderName)
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
