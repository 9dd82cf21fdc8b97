package deployments_test

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// The kustomize component of the kubernetes feedback source.
const (
	feedbackDir     = "feedback-kubernetes"
	feedbackAccount = "metricsender"
	feedbackRole    = "metricsender-feedback"
	feedbackEnv     = "METRICSENDER_FEEDBACK"
)

func TestFeedbackKubernetesComponent(t *testing.T) {
	objs := render(t, ".", feedbackDir)
	t.Run("the Role reads Deployments, StatefulSets and HPAs, nothing else", func(t *testing.T) {
		role := object[*rbacv1.Role](t, objs, feedbackRole)
		want := []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"get", "list", "watch"}},
		}
		if !equalRules(role.Rules, want) {
			t.Errorf("role %s rules %+v, want %+v", role.Name, role.Rules, want)
		}
	})
	t.Run("the RoleBinding grants that Role to the ServiceAccount", func(t *testing.T) {
		rb := object[*rbacv1.RoleBinding](t, objs, feedbackRole)
		sa := object[*corev1.ServiceAccount](t, objs, feedbackAccount)
		if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: feedbackRole}) {
			t.Errorf("roleRef = %+v, want the Role %s", rb.RoleRef, feedbackRole)
		}
		if want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name}}; !slices.Equal(rb.Subjects, want) {
			t.Errorf("subjects = %+v, want %+v", rb.Subjects, want)
		}
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("serviceaccount %s automount %v: want false, its token mounted only by the pods that ask", sa.Name, sa.AutomountServiceAccountToken)
		}
	})
	t.Run("the base sender keeps running without a token", func(t *testing.T) {
		pod := object[*appsv1.Deployment](t, render(t, "."), senderName).Spec.Template.Spec
		if pod.ServiceAccountName != "" || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("base sender: serviceAccountName %q, automount %v; want none and false", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
		}
	})
}

// checkFeedbackSender checks the pod template of a sender (named name)
// rendered with the component: the patch's settings are in and the base's
// survived it.
func checkFeedbackSender(t *testing.T, name string, tmpl corev1.PodTemplateSpec) {
	t.Helper()
	pod := tmpl.Spec
	if name != "metricsender" || pod.ServiceAccountName != feedbackAccount {
		t.Errorf("sender %s serviceAccountName %q, want metricsender running as %s", name, pod.ServiceAccountName, feedbackAccount)
	}
	if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken = %v, want true (informers need the token)", pod.AutomountServiceAccountToken)
	}
	i := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return c.Name == "metricsender" })
	if i < 0 {
		t.Fatalf("sender %s: no container metricsender", name)
	}
	c := pod.Containers[i]
	if v, ok := envValue(c, feedbackEnv); !ok || v != "kubernetes" {
		t.Errorf("env %s = %q, want kubernetes", feedbackEnv, v)
	}
	// The strategic merge patch must have merged into the base's container,
	// not replaced it.
	checkURIFromSecret(t, c)
	checkConfigMount(t, pod, c)
	checkHTTP(t, c)
	checkResources(t, c)
	if c.SecurityContext == nil {
		t.Error("the patch lost the base's securityContext")
	}
}

func equalRules(a, b []rbacv1.PolicyRule) bool {
	return slices.EqualFunc(a, b, func(x, y rbacv1.PolicyRule) bool {
		return slices.Equal(x.APIGroups, y.APIGroups) && slices.Equal(x.Resources, y.Resources) &&
			slices.Equal(x.Verbs, y.Verbs) && len(x.ResourceNames) == 0 && len(x.NonResourceURLs) == 0
	})
}

// TestFeedbackKubernetesBuild renders the base with the component, as an
// overlay would, alone and after sharded/ (the sender is a StatefulSet
// then), and checks the patched sender kept the base's settings.
func TestFeedbackKubernetesBuild(t *testing.T) {
	tests := []struct {
		name       string
		components []string
		wantKinds  []string
	}{
		{"the base's Deployment", []string{feedbackDir},
			[]string{"ConfigMap", "Deployment", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"}},
		{"after sharded/: the StatefulSet", []string{shardedDir, feedbackDir},
			[]string{"ConfigMap", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "Service", "ServiceAccount", "StatefulSet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, ".", tc.components...)
			senders := 0
			for _, obj := range objs {
				checkNameLabel(t, obj, "metricsender")
				switch o := obj.(type) {
				case *appsv1.Deployment:
					senders++
					checkFeedbackSender(t, o.Name, o.Spec.Template)
				case *appsv1.StatefulSet:
					senders++
					checkFeedbackSender(t, o.Name, o.Spec.Template)
				}
			}
			if got := objs.kinds(); !slices.Equal(got, tc.wantKinds) {
				t.Errorf("kinds = %v, want %v", got, tc.wantKinds)
			}
			if senders != 1 {
				t.Errorf("%d senders rendered, want 1", senders)
			}
		})
	}
}
