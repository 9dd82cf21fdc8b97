package deployments_test

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// The kustomize component of the metrics API bridge.
const (
	metricsAPIDir       = "metrics-api"
	metricsAPIName      = "metricsender-metrics-api"
	metricsAPINamespace = "metricsender" // where its bindings and APIServices say it runs
)

// TestMetricsAPIComponent renders the base with the component and checks
// what the aggregator and the HPA rely on: both APIServices reach the
// bridge's Service, the Service reaches the bridge's port, the bridge can
// delegate authentication and authorization, and the HPA controller may
// read the APIs.
func TestMetricsAPIComponent(t *testing.T) {
	objs := render(t, ".", metricsAPIDir)
	for _, obj := range objs {
		checkNameLabel(t, obj, "metricsender")
	}
	svc := object[*corev1.Service](t, objs, metricsAPIName)
	dep := object[*appsv1.Deployment](t, objs, metricsAPIName)
	sa := object[*corev1.ServiceAccount](t, objs, metricsAPIName)
	t.Run("both APIServices point at the Service", func(t *testing.T) {
		for _, group := range []string{"external.metrics.k8s.io", "custom.metrics.k8s.io"} {
			as := object[*apiregistrationv1.APIService](t, objs, "v1beta1."+group)
			ref := as.Spec.Service
			if as.Spec.Group != group || as.Spec.Version != "v1beta1" || ref == nil ||
				ref.Name != svc.Name || ref.Namespace != metricsAPINamespace || ref.Port == nil || *ref.Port != svc.Spec.Ports[0].Port {
				t.Errorf("APIService %s: %+v, want %s/v1beta1 served by %s/%s:%d", as.Name, as.Spec, group, metricsAPINamespace, svc.Name, svc.Spec.Ports[0].Port)
			}
			if as.Spec.GroupPriorityMinimum <= 0 || as.Spec.VersionPriority <= 0 {
				t.Errorf("APIService %s: priorities must be > 0", as.Name)
			}
			// A self-signed certificate: skip verification, stated in the
			// kustomization and the README; a caBundle would contradict it.
			if !as.Spec.InsecureSkipTLSVerify || len(as.Spec.CABundle) != 0 {
				t.Errorf("APIService %s: insecureSkipTLSVerify %v with caBundle of %d bytes, want true and none", as.Name, as.Spec.InsecureSkipTLSVerify, len(as.Spec.CABundle))
			}
		}
	})
	t.Run("the Service reaches the bridge's HTTPS port", func(t *testing.T) {
		pod := dep.Spec.Template
		for k, v := range svc.Spec.Selector {
			if pod.Labels[k] != v {
				t.Errorf("Service selector %s=%s does not match the bridge's pod labels %v", k, v, pod.Labels)
			}
		}
		c := container(t, pod, "metrics-api")
		port := svc.Spec.Ports[0].TargetPort.String()
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == port && p.ContainerPort == 6443 }) {
			t.Errorf("the Service targets port %s; the container has %+v, want %s on 6443 (--listen :6443)", port, c.Ports, port)
		}
		if !slices.Equal(c.Args[:2], []string{"--listen", ":6443"}) {
			t.Errorf("args %q, want --listen :6443 first", c.Args)
		}
		for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
			if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("probe %+v: want an HTTPS GET (the bridge serves only TLS)", probe)
			}
		}
		checkURIFromSecret(t, c)
		checkResources(t, c)
		if pod.Spec.ServiceAccountName != sa.Name || pod.Spec.AutomountServiceAccountToken == nil || !*pod.Spec.AutomountServiceAccountToken {
			t.Errorf("pod runs as %q with automount %v, want %s with its token (delegation needs it)", pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken, sa.Name)
		}
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
			c.SecurityContext.RunAsUser == nil || *c.SecurityContext.RunAsUser != imageUser {
			t.Errorf("securityContext %+v: want a read-only root filesystem as user %d", c.SecurityContext, imageUser)
		}
	})
	bridge := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: metricsAPINamespace}}
	t.Run("auth delegation", func(t *testing.T) {
		crb := object[*rbacv1.ClusterRoleBinding](t, objs, metricsAPIName+":system:auth-delegator")
		if crb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:auth-delegator"}) || !slices.Equal(crb.Subjects, bridge) {
			t.Errorf("%s: roleRef %+v subjects %+v, want system:auth-delegator for %+v", crb.Name, crb.RoleRef, crb.Subjects, bridge)
		}
		rb := object[*rbacv1.RoleBinding](t, objs, metricsAPIName+":extension-apiserver-authentication-reader")
		if rb.Namespace != "kube-system" || rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"}) || !slices.Equal(rb.Subjects, bridge) {
			t.Errorf("%s in %q: roleRef %+v subjects %+v, want the kube-system Role for %+v", rb.Name, rb.Namespace, rb.RoleRef, rb.Subjects, bridge)
		}
	})
	t.Run("the HPA controller reads both APIs", func(t *testing.T) {
		role := object[*rbacv1.ClusterRole](t, objs, "metricsender-metrics-api-reader")
		want := []rbacv1.PolicyRule{{APIGroups: []string{"external.metrics.k8s.io", "custom.metrics.k8s.io"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}
		if !equalRules(role.Rules, want) {
			t.Errorf("%s rules %+v, want %+v", role.Name, role.Rules, want)
		}
		crb := object[*rbacv1.ClusterRoleBinding](t, objs, "metricsender-metrics-api-reader:horizontal-pod-autoscaler")
		hpa := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "horizontal-pod-autoscaler", Namespace: "kube-system"}}
		if crb.RoleRef.Name != role.Name || crb.RoleRef.Kind != "ClusterRole" || !slices.Equal(crb.Subjects, hpa) {
			t.Errorf("%s: roleRef %+v subjects %+v, want %s for %+v", crb.Name, crb.RoleRef, crb.Subjects, role.Name, hpa)
		}
	})
	t.Run("the base is unchanged beside it", func(t *testing.T) {
		base := render(t, ".")
		for _, kind := range base.kinds() {
			if !slices.Contains(objs.kinds(), kind) {
				t.Errorf("the base's %s is missing with the component", kind)
			}
		}
		if n := len(all[*appsv1.Deployment](objs)); n != 2 {
			t.Errorf("%d Deployments, want the sender and the bridge", n)
		}
	})
}
