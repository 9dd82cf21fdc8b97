package deployments_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// The kustomize component of the kubernetes feedback source.
const (
	feedbackDir         = "feedback-kubernetes"
	feedbackAccount     = "metricsender"
	feedbackRole        = "metricsender-feedback"
	feedbackEnv         = "METRICSENDER_FEEDBACK"
	feedbackPatchFile   = "feedback-kubernetes/sender-patch.yaml"
	feedbackAccountFile = "feedback-kubernetes/serviceaccount.yaml"
	feedbackRoleFile    = "feedback-kubernetes/role.yaml"
	feedbackBindingFile = "feedback-kubernetes/rolebinding.yaml"
)

func TestFeedbackKubernetesComponent(t *testing.T) {
	m := loadManifests(t)
	t.Run("the Role reads Deployments and StatefulSets, nothing else", func(t *testing.T) {
		role, ok := m[feedbackRoleFile].(*rbacv1.Role)
		if !ok {
			t.Fatalf("%s: want a Role, got %T", feedbackRoleFile, m[feedbackRoleFile])
		}
		want := []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list", "watch"}}}
		if role.Name != feedbackRole || !equalRules(role.Rules, want) {
			t.Errorf("role %s rules %+v, want %s with %+v", role.Name, role.Rules, feedbackRole, want)
		}
	})
	t.Run("the RoleBinding grants that Role to the ServiceAccount", func(t *testing.T) {
		rb, ok := m[feedbackBindingFile].(*rbacv1.RoleBinding)
		if !ok {
			t.Fatalf("%s: want a RoleBinding, got %T", feedbackBindingFile, m[feedbackBindingFile])
		}
		sa, ok := m[feedbackAccountFile].(*corev1.ServiceAccount)
		if !ok {
			t.Fatalf("%s: want a ServiceAccount, got %T", feedbackAccountFile, m[feedbackAccountFile])
		}
		if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: feedbackRole}) {
			t.Errorf("roleRef = %+v, want the Role %s", rb.RoleRef, feedbackRole)
		}
		if want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name}}; !slices.Equal(rb.Subjects, want) {
			t.Errorf("subjects = %+v, want %+v", rb.Subjects, want)
		}
		if sa.Name != feedbackAccount || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("serviceaccount %s automount %v: want %s, its token mounted only by the pods that ask", sa.Name, sa.AutomountServiceAccountToken, feedbackAccount)
		}
	})
	t.Run("the patch runs the sender as it, token mounted, feedback on", func(t *testing.T) {
		d := m.deployment(t, feedbackPatchFile)
		checkFeedbackSender(t, d.Name, d.Spec.Template, false)
	})
	t.Run("the base sender keeps running without a token", func(t *testing.T) {
		pod := m.deployment(t, senderFile).Spec.Template.Spec
		if pod.ServiceAccountName != "" || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("base sender: serviceAccountName %q, automount %v; want none and false", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
		}
	})
}

// checkFeedbackSender checks the pod template of a sender (named name)
// that uses the component; whole is whether it is rendered (the base's
// settings must survive).
func checkFeedbackSender(t *testing.T, name string, tmpl corev1.PodTemplateSpec, whole bool) {
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
	if !whole {
		return
	}
	if !slices.Contains(envNames(c), uriEnv) || len(c.VolumeMounts) == 0 || c.SecurityContext == nil || c.Resources.Limits == nil {
		t.Errorf("the patch lost the base's env, mounts, securityContext or resources: %+v", c)
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
// then), and checks the result.
func TestFeedbackKubernetesBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		msg := "kubectl not on PATH: the feedback-kubernetes component is not rendered (apt-get install kubectl, or any kubectl >= 1.27)"
		if os.Getenv("METRICSENDER_REQUIRE_KUBECTL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tests := []struct {
		name       string
		components []string
		wantKinds  []string
	}{
		{"the base's Deployment", []string{feedbackDir},
			[]string{"ConfigMap", "Deployment", "Role", "RoleBinding", "Secret", "Service", "ServiceAccount"}},
		{"after sharded/: the StatefulSet", []string{"sharded", feedbackDir},
			[]string{"ConfigMap", "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service", "Service", "ServiceAccount", "StatefulSet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			overlay := t.TempDir()
			here, err := filepath.Abs(deploymentsDir)
			if err != nil {
				t.Fatal(err)
			}
			base, err := filepath.Rel(overlay, here) // kustomize refuses absolute roots
			if err != nil {
				t.Fatal(err)
			}
			var comps []string
			for _, c := range tc.components {
				comps = append(comps, filepath.Join(base, c))
			}
			k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [" + base + "]\ncomponents: [" + strings.Join(comps, ", ") + "]\n"
			if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(kubectl, "kustomize", overlay).Output()
			if err != nil {
				t.Fatalf("kubectl kustomize (base + %v): %v\n%s", tc.components, err, stderrOf(err))
			}
			dec := newStrictDecoder(t)
			var kinds []string
			senders := 0
			for _, doc := range splitYAMLDocuments(t, out) {
				obj, err := decodeYAMLObject(dec, doc)
				if err != nil {
					t.Fatalf("rendered object: %v\n%s", err, doc)
				}
				kinds = append(kinds, obj.GetObjectKind().GroupVersionKind().Kind)
				checkNameLabel(t, obj, "metricsender")
				switch o := obj.(type) {
				case *appsv1.Deployment:
					senders++
					checkFeedbackSender(t, o.Name, o.Spec.Template, true)
				case *appsv1.StatefulSet:
					senders++
					checkFeedbackSender(t, o.Name, o.Spec.Template, true)
				}
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.wantKinds) {
				t.Errorf("kinds = %v, want %v", kinds, tc.wantKinds)
			}
			if senders != 1 {
				t.Errorf("%d senders rendered, want 1", senders)
			}
		})
	}
}
