//go:build kubeapiserver

package kube_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/kubetest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// TestKubeAPIServer runs the source against a real kube-apiserver and
// etcd (controller-runtime's envtest; no controllers, so the test sets
// status.readyReplicas itself).
func TestKubeAPIServer(t *testing.T) {
	env, admin := kubetest.Start(t)
	cs := kubernetes.NewForConfigOrDie(admin)
	ctx := context.Background()
	for _, n := range []string{"loop", "limited", "hpa"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("scaling and CPU changes move the next values", func(t *testing.T) {
		testClosedLoop(t, admin, cs)
	})
	t.Run("a Role without watch: a clear warning and a 503 reason", func(t *testing.T) {
		testRoleWithoutWatch(t, env, admin, cs)
	})
	t.Run("the HPA on a Deployment is read and followed, its changes from the next call", func(t *testing.T) {
		testHPA(t, admin, cs)
	})
}

func testHPA(t *testing.T, admin *rest.Config, cs kubernetes.Interface) {
	ctx := context.Background()
	dep := deployment("web", 2, 2, nil, container("app", "", ""))
	dep.Namespace = "hpa"
	dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	dep.Spec.Template.Labels = map[string]string{"app": "web"}
	dep.Spec.Template.Spec.Containers[0].Image = "metricsender:test"
	if _, err := cs.AppsV1().Deployments("hpa").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h := hpa("web", "web", "500m", 10)
	h.Namespace = "hpa"
	created, err := cs.AutoscalingV2().HorizontalPodAutoscalers("hpa").Create(ctx, h, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var logs syncbuf.Buffer
	src, err := kube.New(kube.Config{REST: admin, Namespace: "hpa", Deployments: parse(t, webCPU)}, rec, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, ctx, src)
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := src.WaitSynced(syncCtx); err != nil {
		t.Fatalf("WaitSynced: %v\nlog:\n%s", err, logs.String())
	}
	// The API server filled in the defaults (minReplicas 1, no behavior).
	if got, judged := src.Calls(cpuEvent(2), 2, time.Now()); got != 4 || !judged {
		t.Fatalf("Calls(cpu 2 at 2 replicas) = %g, %v; want 4 (2 / 500m)\nlog:\n%s", got, judged, logs.String())
	}
	created.Spec.Metrics[0].External.Target.AverageValue = ptrQuantity("250m")
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("hpa").Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new target followed", func() bool { got, _ := src.Calls(cpuEvent(2), 4, time.Now()); return got == 8 })
	if u := src.Unjudged(); len(u) != 0 {
		t.Errorf("Unjudged = %v, want none", u)
	}
}

func ptrQuantity(s string) *resource.Quantity { q := resource.MustParse(s); return &q }

func testClosedLoop(t *testing.T, admin *rest.Config, cs kubernetes.Interface) {
	ctx := context.Background()
	dep := deployment("web", 2, 0, nil, container("app", "500m", "1"))
	dep.Namespace = "loop"
	dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	dep.Spec.Template.Labels = map[string]string{"app": "web"}
	dep.Spec.Template.Spec.Containers[0].Image = "metricsender:test"
	created, err := cs.AppsV1().Deployments("loop").Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.ReadyReplicas, created.Status.Replicas = 2, 2
	if _, err := cs.AppsV1().Deployments("loop").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	cfg, err := generator.Parse("loop.yaml", []byte(`deployments:
  - name: web
    state: {replicas: 1, allocation: {cpu: 1}}
    metrics:
      cpu: {expr: "allocation.cpu / replicas", decimals: 4}
`))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Seed: 1, Start: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	src, err := kube.New(kube.Config{REST: admin, Namespace: "loop", Deployments: cfg.Deployments}, sched, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, ctx, src)
	syncCtx, syncCancel := context.WithTimeout(ctx, 30*time.Second)
	defer syncCancel()
	if err := src.WaitSynced(syncCtx); err != nil {
		t.Fatalf("WaitSynced: %v\nlog:\n%s", err, logs.String())
	}
	if err := src.Ready(); err != nil {
		t.Errorf("Ready after sync = %v", err)
	}

	// next is web's cpu at the next tick.
	next := func() string {
		b, ok := sched.Next()
		if !ok || len(b.Events) != 1 {
			t.Fatalf("Next = %+v, %v", b, ok)
		}
		return b.Events[0].Metrics[0].Value.Text
	}
	// expect waits until a tick sends want.
	expect := func(t *testing.T, want string) {
		t.Helper()
		var got []string
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			v := next()
			if v == want {
				return
			}
			if len(got) == 0 || got[len(got)-1] != v {
				got = append(got, v)
			}
			time.Sleep(20 * time.Millisecond)
		}
		st, _ := sched.Observed("web")
		t.Fatalf("cpu never %s in 20 s; sent %v; observed %+v\nlog:\n%s", want, got, st, logs.String())
	}
	update := func(t *testing.T, change func(spec *corev1.PodSpec, replicas *int32)) {
		t.Helper()
		d, err := cs.AppsV1().Deployments("loop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		change(&d.Spec.Template.Spec, d.Spec.Replicas)
		if _, err := cs.AppsV1().Deployments("loop").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// The first tick already reflects the cluster: the limit 1 over 2 replicas.
	if got := next(); got != "0.5" {
		st, _ := sched.Observed("web")
		t.Fatalf("first cpu = %s, want 0.5 (limit 1 / 2 replicas); observed %+v", got, st)
	}
	steps := []struct {
		name   string
		change func(spec *corev1.PodSpec, replicas *int32)
		want   string
	}{
		{"scaled to 4", func(_ *corev1.PodSpec, r *int32) { *r = 4 }, "0.25"},
		{"the CPU limit raised to 3", func(s *corev1.PodSpec, _ *int32) {
			s.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("3")
		}, "0.75"},
		{"the limit removed: the request 500m counts", func(s *corev1.PodSpec, _ *int32) {
			s.Containers[0].Resources.Limits = nil
		}, "0.125"},
		{"the request raised to 2", func(s *corev1.PodSpec, _ *int32) {
			s.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		}, "0.5"},
		{"scaled down to 1", func(_ *corev1.PodSpec, r *int32) { *r = 1 }, "2"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			update(t, st.change)
			expect(t, st.want)
		})
	}
	st, err := sched.Observed("web")
	if err != nil {
		t.Fatal(err)
	}
	if st.Sources.Replicas.Name != "kubernetes" || st.Sources.Allocation["cpu"].Name != "kubernetes" || st.Ready != 2 {
		t.Errorf("observed %+v, want replicas and cpu from kubernetes, ready 2 (status.readyReplicas)", st)
	}
}

func testRoleWithoutWatch(t *testing.T, env *envtest.Environment, admin *rest.Config, cs kubernetes.Interface) {
	ctx := context.Background()
	user, err := env.AddUser(envtest.User{Name: "metricsender"}, admin)
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "limited"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list"}}},
	}
	if _, err := cs.RbacV1().Roles("limited").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "limited"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "metricsender"}},
	}
	if _, err := cs.RbacV1().RoleBindings("limited").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dep := deployment("web", 3, 3, nil, container("app", "250m", ""))
	dep.Namespace = "limited"
	dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	dep.Spec.Template.Labels = map[string]string{"app": "web"}
	dep.Spec.Template.Spec.Containers[0].Image = "metricsender:test"
	if _, err := cs.AppsV1().Deployments("limited").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{}
	var logs syncbuf.Buffer
	src, err := kube.New(kube.Config{REST: user.Config(), Namespace: "limited",
		Deployments: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")}, rec, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, ctx, src)

	eventually(t, "Ready reports the refused watch", func() bool {
		err := src.Ready()
		return err != nil && strings.Contains(err.Error(), "forbidden")
	})
	const wantReady = `kubernetes feedback: watch deployments in namespace "limited": deployments.apps is forbidden: User "metricsender" cannot watch resource "deployments" in API group "apps" in the namespace "limited"`
	if got := src.Ready().Error(); got != wantReady {
		t.Errorf("Ready = %q\nwant     %q", got, wantReady)
	}
	for _, want := range []string{
		`level=WARN msg="kubernetes feedback: cannot read the cluster; the last known state holds" feedback=kubernetes namespace=limited verb=watch resource=deployments error="deployments.apps is forbidden: User \"metricsender\" cannot watch resource \"deployments\"`,
		`hint="the sender's ServiceAccount needs get, list and watch on deployments and statefulsets in this namespace`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if strings.Count(logs.String(), "cannot read the cluster") != 1 {
		t.Errorf("the warning is not throttled to one line:\n%s", logs.String())
	}
	// What the list gave is observed; it holds.
	eventually(t, "the listed Deployment observed", func() bool { return len(rec.get("web")) > 0 })
	if got := rec.get("web")[0]; got.Replicas != 3 || got.Allocation["cpu"] != 0.25 {
		t.Errorf("observed %+v, want replicas 3, cpu 0.25", got)
	}

	// Granting watch heals it: Ready turns nil and the log says so.
	role.Rules[0].Verbs = append(role.Rules[0].Verbs, "watch")
	if _, err := cs.RbacV1().Roles("limited").Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for src.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Ready = %v 60 s after watch was granted\nlog:\n%s", src.Ready(), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `msg="kubernetes feedback: reading the cluster again"`) {
		t.Errorf("no recovery line:\n%s", logs.String())
	}
}

// runUntilCleanup runs src until the test ends, then waits for Run to
// return.
func runUntilCleanup(t *testing.T, ctx context.Context, src *kube.Source) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = src.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
}
