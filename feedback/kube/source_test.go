package kube_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// recorder is a generator.Recorder that keeps every observation by app.
type recorder struct {
	mu    sync.Mutex
	obs   map[string][]generator.Observation
	known map[string]bool // nil: every app is known
}

func (r *recorder) Observe(app string, ob generator.Observation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known != nil && !r.known[app] {
		return generator.ErrUnknownDeployment
	}
	if r.obs == nil {
		r.obs = map[string][]generator.Observation{}
	}
	ob.At = time.Time{}
	r.obs[app] = append(r.obs[app], ob)
	return nil
}

func (r *recorder) get(app string) []generator.Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]generator.Observation(nil), r.obs[app]...)
}

const ns = "lab"

func deployment(name string, replicas, ready int32, labels map[string]string, cs ...corev1.Container) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: cs}}},
		Status:     appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func statefulSet(name string, replicas, ready int32, cs ...corev1.Container) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: cs}}},
		Status:     appsv1.StatefulSetStatus{ReadyReplicas: ready},
	}
}

func container(name, cpuRequest, cpuLimit string) corev1.Container {
	c := corev1.Container{Name: name}
	if cpuRequest != "" {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuRequest)}
	}
	if cpuLimit != "" {
		c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLimit)}
	}
	return c
}

func parse(t *testing.T, yaml string) []generator.Deployment {
	t.Helper()
	cfg, err := generator.Parse("k.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Deployments
}

// fakeClient is a kube.Client over client-go's object tracker with a
// scheme of apps/v1 and autoscaling/v2 only. client-go's fake clientset would compile every API
// group and typed client into this test (most of a fresh `go test ./...`,
// issue 21); this does what the tests used of it: lists filtered by label
// selector, watches, reactors, and no watch-list.
type fakeClient struct {
	*k8stesting.Fake
	tracker k8stesting.ObjectTracker
}

var fakeKinds = map[string]schema.GroupVersionKind{
	"deployments":              appsv1.SchemeGroupVersion.WithKind("Deployment"),
	"statefulsets":             appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
	"horizontalpodautoscalers": autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"),
}

func newFakeClient(objs ...runtime.Object) fakeClient {
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	if err := errors.Join(appsv1.AddToScheme(scheme), autoscalingv2.AddToScheme(scheme)); err != nil {
		panic(err)
	}
	f := fakeClient{Fake: &k8stesting.Fake{}, tracker: k8stesting.NewObjectTracker(scheme, serializer.NewCodecFactory(scheme).UniversalDecoder())}
	for _, o := range objs {
		if err := f.tracker.Add(o); err != nil {
			panic(err)
		}
	}
	f.AddReactor("*", "*", k8stesting.ObjectReaction(f.tracker))
	f.AddWatchReactor("*", func(action k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := action.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		w, err := f.tracker.Watch(action.GetResource(), action.GetNamespace(), opts)
		if err != nil {
			return false, nil, err
		}
		return true, w, nil
	})
	return f
}

// IsWatchListSemanticsUnSupported: as client-go's fake clientset, the
// tracker cannot watch-list.
func (f fakeClient) IsWatchListSemanticsUnSupported() bool { return true }

func (f fakeClient) List(_ context.Context, gvr schema.GroupVersionResource, ns string, o metav1.ListOptions) (runtime.Object, error) {
	kind, ok := fakeKinds[gvr.Resource]
	if !ok {
		return nil, fmt.Errorf("fakeClient: no %s", gvr)
	}
	obj, err := f.Invokes(k8stesting.NewListActionWithOptions(gvr, kind, ns, o), nil)
	if obj == nil || err != nil {
		return obj, err
	}
	label, _, _ := k8stesting.ExtractFromListOptions(o)
	if label == nil {
		return obj, nil
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, err
	}
	var kept []runtime.Object
	for _, it := range items {
		if m, err := meta.Accessor(it); err == nil && label.Matches(labels.Set(m.GetLabels())) {
			kept = append(kept, it)
		}
	}
	return obj, meta.SetList(obj, kept)
}

func (f fakeClient) Watch(_ context.Context, gvr schema.GroupVersionResource, ns string, o metav1.ListOptions) (watch.Interface, error) {
	if _, ok := fakeKinds[gvr.Resource]; !ok {
		return nil, fmt.Errorf("fakeClient: no %s", gvr)
	}
	return f.InvokesWatch(k8stesting.NewWatchActionWithOptions(gvr, ns, o))
}

// start runs a Source over a fakeClient holding objs until the test
// ends, and waits for its first sync.
func start(t *testing.T, cfg kube.Config, obs generator.Recorder, objs ...runtime.Object) (*kube.Source, fakeClient, *syncbuf.Buffer) {
	t.Helper()
	client := newFakeClient(objs...)
	if cfg.Client == nil {
		cfg.Client = client
	}
	if cfg.Namespace == "" {
		cfg.Namespace = ns
	}
	var logs syncbuf.Buffer
	src, err := kube.New(cfg, obs, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = src.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return src, client, &logs
}

func waitSynced(t *testing.T, src *kube.Source) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := src.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFirstSyncObserves(t *testing.T) {
	const web = "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n"
	tests := []struct {
		name     string
		yaml     string
		selector string
		objs     []runtime.Object
		want     map[string][]generator.Observation
		wantLog  string
	}{
		{"a Deployment of the deployment's name: limit over request",
			web, "",
			[]runtime.Object{deployment("web", 3, 2, nil, container("app", "250m", "500m")), deployment("other", 9, 9, nil)},
			map[string][]generator.Observation{"web": {{Source: "kubernetes", Replicas: 3, HasReplicas: true, Ready: 2, HasReady: true,
				Allocation: map[string]float64{"cpu": 0.5}}}}, ""},
		{"a StatefulSet named in kubernetes:, a Deployment of the same name ignored",
			"deployments:\n  - name: web\n    kubernetes: {kind: StatefulSet, name: web-db, allocation: requests}\n    metrics:\n      cpu: [1]\n", "",
			[]runtime.Object{statefulSet("web-db", 2, 1, container("db", "750m", "2")), deployment("web", 5, 5, nil)},
			map[string][]generator.Observation{"web": {{Source: "kubernetes", Replicas: 2, HasReplicas: true, Ready: 1, HasReady: true,
				Allocation: map[string]float64{"cpu": 0.75}}}}, ""},
		{"count copies map to their own names",
			"deployments:\n  - name: w\n    count: 2\n    metrics:\n      cpu: [1]\n", "",
			[]runtime.Object{deployment("w-0", 1, 1, nil), deployment("w-1", 2, 0, nil)},
			map[string][]generator.Observation{
				"w-0": {{Source: "kubernetes", Replicas: 1, HasReplicas: true, Ready: 1, HasReady: true}},
				"w-1": {{Source: "kubernetes", Replicas: 2, HasReplicas: true, Ready: 0, HasReady: true}},
			}, ""},
		{"the selector leaves a workload out",
			web, "team=web",
			[]runtime.Object{deployment("web", 3, 3, map[string]string{"team": "db"})},
			map[string][]generator.Observation{}, ""},
		{"the selector keeps a workload in",
			web, "team=web",
			[]runtime.Object{deployment("web", 3, 3, map[string]string{"team": "web"})},
			map[string][]generator.Observation{"web": {{Source: "kubernetes", Replicas: 3, HasReplicas: true, Ready: 3, HasReady: true}}}, ""},
		{"a container that is not there: warned, replicas still read",
			"deployments:\n  - name: web\n    kubernetes: {container: main}\n    metrics:\n      cpu: [1]\n", "",
			[]runtime.Object{deployment("web", 2, 2, nil, container("app", "1", ""))},
			map[string][]generator.Observation{"web": {{Source: "kubernetes", Replicas: 2, HasReplicas: true, Ready: 2, HasReady: true}}},
			`msg="kubernetes feedback: cannot read a workload for a deployment" feedback=kubernetes namespace=lab app=web kind=Deployment name=web problem="no container \"main\" in the pod template (it has \"app\")"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			src, _, logs := start(t, kube.Config{Deployments: parse(t, tc.yaml), Selector: tc.selector}, rec, tc.objs...)
			waitSynced(t, src)
			if err := src.Ready(); err != nil {
				t.Errorf("Ready after sync = %v", err)
			}
			got := map[string][]generator.Observation{}
			for app := range tc.want {
				got[app] = rec.get(app)
			}
			for _, d := range parse(t, tc.yaml) {
				if o := rec.get(d.Name); len(o) > 0 && tc.want[d.Name] == nil {
					got[d.Name] = o
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("observations:\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log lacks %s:\n%s", tc.wantLog, logs)
			}
		})
	}
}

func TestChangesAreObserved(t *testing.T) {
	rec := &recorder{}
	dep := deployment("web", 2, 2, nil, container("app", "250m", ""))
	src, client, _ := start(t, kube.Config{Deployments: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")}, rec, dep)
	waitSynced(t, src)
	update := func(change func(d *appsv1.Deployment)) {
		t.Helper()
		gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
		obj, err := client.tracker.Get(gvr, ns, "web")
		if err != nil {
			t.Fatal(err)
		}
		d := obj.(*appsv1.Deployment)
		change(d)
		if err := client.tracker.Update(gvr, d, ns); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func(d *appsv1.Deployment)
		want   generator.Observation
	}{
		{"scaled to 4", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr[int32](4) },
			generator.Observation{Source: "kubernetes", Replicas: 4, HasReplicas: true, Ready: 2, HasReady: true}},
		{"ready 4", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 4 },
			generator.Observation{Source: "kubernetes", Ready: 4, HasReady: true}},
		{"a CPU limit over the request", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")}
		}, generator.Observation{Source: "kubernetes", Allocation: map[string]float64{"cpu": 1.5}}},
		{"a label only: nothing new", func(d *appsv1.Deployment) { d.Labels = map[string]string{"x": "y"} }, generator.Observation{}},
		{"memory requested", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}, generator.Observation{Source: "kubernetes", Allocation: map[string]float64{"memory": 1 << 30}}},
	}
	n := len(rec.get("web"))
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			update(st.change)
			if st.want.Source == "" {
				time.Sleep(200 * time.Millisecond)
				if got := rec.get("web"); len(got) != n {
					t.Fatalf("observed %+v, want nothing new", got[n:])
				}
				return
			}
			eventually(t, "an observation", func() bool { return len(rec.get("web")) > n })
			got := rec.get("web")
			if !reflect.DeepEqual(got[n:], []generator.Observation{st.want}) {
				t.Errorf("observed %+v, want %+v", got[n:], st.want)
			}
			n = len(got)
		})
	}
}

func TestForbiddenWatch(t *testing.T) {
	rec := &recorder{}
	client := newFakeClient(deployment("web", 3, 3, nil))
	client.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "",
			errors.New(`User "system:serviceaccount:lab:metricsender" cannot watch resource "deployments"`))
	})
	src, _, logs := start(t, kube.Config{Client: client, Deployments: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")}, rec)
	eventually(t, "Ready reports the refused watch", func() bool { return src.Ready() != nil && strings.Contains(src.Ready().Error(), "forbidden") })
	const wantReady = `kubernetes feedback: watch deployments in namespace "lab": deployments.apps is forbidden: User "system:serviceaccount:lab:metricsender" cannot watch resource "deployments"`
	if got := src.Ready().Error(); got != wantReady {
		t.Errorf("Ready = %q, want %q", got, wantReady)
	}
	eventually(t, "a warning", func() bool { return strings.Contains(logs.String(), "cannot read the cluster") })
	for _, want := range []string{
		`level=WARN msg="kubernetes feedback: cannot read the cluster; the last known state holds" feedback=kubernetes namespace=lab verb=watch resource=deployments`,
		`hint="the sender's ServiceAccount needs get, list and watch on deployments and statefulsets in this namespace`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	// The list worked: what it saw is observed; the state holds.
	if got := rec.get("web"); len(got) != 1 || got[0].Replicas != 3 {
		t.Errorf("observed %+v, want the listed replicas 3", got)
	}
}

func TestSetDeployments(t *testing.T) {
	rec := &recorder{}
	src, _, _ := start(t, kube.Config{Deployments: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")}, rec,
		deployment("web", 1, 1, nil), deployment("api", 2, 2, nil), statefulSet("db", 3, 3))
	waitSynced(t, src)
	src.SetDeployments(parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n  - name: api\n    metrics:\n      cpu: [1]\n"+
		"  - name: store\n    kubernetes: {kind: StatefulSet, name: db}\n    metrics:\n      cpu: [1]\n"))
	eventually(t, "api observed from the informer's store", func() bool { return len(rec.get("api")) == 1 })
	waitSynced(t, src) // the StatefulSet informer, new with the reload
	eventually(t, "store observed once the StatefulSets are listed", func() bool { return len(rec.get("store")) == 1 })
	if got := rec.get("web"); len(got) != 1 {
		t.Errorf("web observed %d times, want once (unchanged by the reload)", len(got))
	}
	if got := rec.get("store")[0]; got.Replicas != 3 {
		t.Errorf("store observed %+v, want the StatefulSet's replicas 3", got)
	}
}

func TestUnknownDeploymentIsRetriedAfterReload(t *testing.T) {
	rec := &recorder{known: map[string]bool{}}
	src, _, _ := start(t, kube.Config{Deployments: parse(t, "deployments:\n  - name: web\n    metrics:\n      cpu: [1]\n")}, rec,
		deployment("web", 2, 2, nil))
	waitSynced(t, src)
	rec.mu.Lock()
	rec.known["web"] = true // the schedule has it now
	rec.mu.Unlock()
	src.SetDeployments(parse(t, "deployments:\n  - name: web\n    kubernetes: {allocation: limits}\n    metrics:\n      cpu: [1]\n"))
	eventually(t, "web observed", func() bool { return len(rec.get("web")) == 1 })
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  kube.Config
		env  map[string]string
		want string
	}{
		{"bad selector and namespace", kube.Config{Client: newFakeClient(), Selector: "a in (", Namespace: "Lab"},
			nil, "kubernetes feedback config: namespace \"Lab\": not a namespace name (lowercase letters, digits and '-', at most 63)\nselector \"a in (\":"},
		{"no kubeconfig anywhere", kube.Config{}, map[string]string{"KUBECONFIG": "/nonexistent/config", "HOME": "/nonexistent"},
			"kubernetes feedback: not in a cluster and no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)"},
		{"a kubeconfig that is not there", kube.Config{Kubeconfig: "/nonexistent/kubeconfig"}, nil,
			"kubernetes feedback: kubeconfig: stat /nonexistent/kubeconfig: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBERNETES_SERVICE_HOST", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := kube.New(tc.cfg, &recorder{}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New error = %v, want it to start with %q", err, tc.want)
			}
		})
	}
}

func TestKubeconfigNamespace(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	const cfg = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]
current-context: x
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, env, want string
	}{
		{"--kubeconfig, the context's namespace", path, "", "team-a"},
		{"KUBECONFIG", "", path, "team-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			src, err := kube.New(kube.Config{Kubeconfig: tc.flag}, &recorder{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := src.Namespace(); got != tc.want {
				t.Errorf("Namespace = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("--kube-namespace wins", func(t *testing.T) {
		src, err := kube.New(kube.Config{Kubeconfig: path, Namespace: "other"}, &recorder{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := src.Namespace(); got != "other" {
			t.Errorf("Namespace = %q, want other", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }
