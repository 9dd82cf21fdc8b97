package deployments_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func checkResources(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[name]
		lim, okLim := c.Resources.Limits[name]
		if !okReq || !okLim {
			t.Errorf("%s: want both a request and a limit", name)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s > limit %s", name, req.String(), lim.String())
		}
	}
}

func checkSecurity(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must be false")
	}
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		t.Fatal("the container has no securityContext")
	}
	// The container's settings win over the pod's, as the kubelet applies them.
	runAsNonRoot := cmpOrPtr(csc.RunAsNonRoot, psc.RunAsNonRoot)
	runAsUser := cmpOrPtr(csc.RunAsUser, psc.RunAsUser)
	seccomp := cmpOrPtr(csc.SeccompProfile, psc.SeccompProfile)
	if runAsNonRoot == nil || !*runAsNonRoot {
		t.Error("runAsNonRoot must be true")
	}
	if runAsUser == nil || *runAsUser != imageUser {
		t.Errorf("runAsUser = %v, want %d (the image's USER)", runAsUser, imageUser)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %v, want RuntimeDefault", seccomp)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem must be true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation must be false")
	}
	if csc.Privileged != nil && *csc.Privileged {
		t.Error("privileged must not be set")
	}
	if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) != 0 {
		t.Errorf("capabilities = %+v, want drop [ALL] and no add", csc.Capabilities)
	}
}

func cmpOrPtr[T any](container, pod *T) *T {
	if container != nil {
		return container
	}
	return pod
}
