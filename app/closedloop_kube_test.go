//go:build kubeapiserver

package app_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/kubetest"
)

// TestClosedLoopKubernetes is send --feedback kubernetes end to end over
// gochannel against a real kube-apiserver: web's Deployment has 2
// replicas and a CPU limit of 1, so cpu = allocation.cpu / replicas sends
// 0.5 from the first tick (the file alone would say 1); scaling the
// Deployment to 4 makes it send 0.25. api's Deployment has an HPA on the
// bridge's external cpu (AverageValue 500m): its total 2 calls for 4
// replicas; the test, playing the HPA controller, scales it to 4, and the
// summary line, the report and /metrics say the HPA reacted once.
func TestClosedLoopKubernetes(t *testing.T) {
	env, admin := kubetest.Start(t)
	user, err := env.AddUser(envtest.User{Name: "sender", Groups: []string{"system:masters"}}, admin)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "loop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	replicas := int32(2)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "loop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "web:test",
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("loop").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createHPA(t, ctx, cs)

	cfg := writeFile(t, "loop.yaml", "deployments:\n  - name: web\n    metrics:\n      cpu: {expr: \"allocation.cpu / replicas\"}\n    state: {allocation: {cpu: 1}}\n"+
		"  - name: api\n    metrics:\n      cpu: [2]\n")
	kc := writeFile(t, "kubeconfig", string(kubeconfig))
	addr := brokertest.FreeAddr(t)
	report := filepath.Join(t.TempDir(), "report.json")
	run := startLoop(ctx, "-c", cfg, "--http-addr", addr, "--feedback", "kubernetes", "--kubeconfig", kc, "--kube-namespace", "loop", "--report", report)
	values := func() []string { _, cpu := run.web(); return cpu }
	waitFor := func(what string, ok func() bool) { t.Helper(); run.waitFor(t, ctx, what, ok) }
	waitFor("first message", func() bool { return len(values()) > 0 })
	if first := values()[0]; first != "0.5" {
		t.Errorf("first cpu = %s, want 0.5 (the cluster's limit 1 over 2 replicas, synced before the first tick)", first)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d %s, want 200", resp.StatusCode, body)
	}

	scale, err := cs.AppsV1().Deployments("loop").GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 4
	if _, err := cs.AppsV1().Deployments("loop").UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("cpu 0.25 after scaling to 4", func() bool { v := values(); return v[len(v)-1] == "0.25" })

	playHPA(t, ctx, cs, addr, run)
	cancel()
	if code := <-run.done; code != 0 {
		t.Errorf("send exited %d after the signal, want 0:\n%s", code, run.stderr.String())
	}
	checkHPAReport(t, run.stderr.String(), report)
}
