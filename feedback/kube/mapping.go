package kube

import (
	"maps"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/labsea/metricsender/generator"
)

// objKey names a workload of the namespace watched.
type objKey struct{ kind, name string }

// target is where one simulated deployment is read: its `kubernetes:`
// section with the defaults filled in.
type target struct {
	app        string
	key        objKey
	container  string            // "": the first
	allocation string            // "", generator.AllocationRequests or generator.AllocationLimits
	resources  map[string]string // metric -> resource name, the defaults included
	metrics    []string          // the metrics the app sends, for its HPA
}

// targetOf is where d is read.
func targetOf(d generator.Deployment) target {
	t := target{app: d.Name, key: objKey{kind: generator.KindDeployment, name: d.Name}, resources: generator.DefaultResources}
	for _, m := range d.Metrics {
		t.metrics = append(t.metrics, m.Name)
	}
	k := d.Kubernetes
	if k == nil {
		return t
	}
	if k.Kind != "" {
		t.key.kind = k.Kind
	}
	if k.Name != "" {
		t.key.name = k.Name
	}
	t.container, t.allocation = k.Container, k.Allocation
	if len(k.Resources) > 0 {
		t.resources = maps.Clone(generator.DefaultResources)
		maps.Copy(t.resources, k.Resources)
	}
	return t
}

// same reports whether t and u read the same thing (the app aside).
func (t target) same(u target) bool {
	return t.key == u.key && t.container == u.container && t.allocation == u.allocation && maps.Equal(t.resources, u.resources)
}

// workload is what is read of a Deployment or a StatefulSet.
type workload struct {
	key        objKey
	replicas   *int32
	ready      int32
	containers []corev1.Container
}

// workloadOf returns the workload obj holds: a *appsv1.Deployment or
// *appsv1.StatefulSet, or a deletion tombstone of one.
func workloadOf(obj any) (workload, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return workload{key: objKey{generator.KindDeployment, o.Name}, replicas: o.Spec.Replicas,
			ready: o.Status.ReadyReplicas, containers: o.Spec.Template.Spec.Containers}, true
	case *appsv1.StatefulSet:
		return workload{key: objKey{generator.KindStatefulSet, o.Name}, replicas: o.Spec.Replicas,
			ready: o.Status.ReadyReplicas, containers: o.Spec.Template.Spec.Containers}, true
	}
	return workload{}, false
}

// values is what a target reads of a workload, in base units.
type values struct {
	replicas, ready float64
	allocation      map[string]float64 // by metric; only the resources set
}

// read returns what t reads of w. problem is non-empty when the container
// t names is not in the pod template (then only replicas and ready are
// read).
func read(w workload, t target) (v values, problem string) {
	v.replicas = 1 // the API server's default for a nil spec.replicas
	if w.replicas != nil {
		v.replicas = float64(*w.replicas)
	}
	v.ready = float64(w.ready)
	c, problem := container(w.containers, t.container)
	if c == nil {
		return v, problem
	}
	for metric, res := range t.resources {
		q, ok := allocated(c.Resources, corev1.ResourceName(res), t.allocation)
		if !ok {
			continue
		}
		if v.allocation == nil {
			v.allocation = make(map[string]float64, len(t.resources))
		}
		v.allocation[metric] = q
	}
	return v, ""
}

// container returns the container named (the first for ""), or nil and
// why.
func container(cs []corev1.Container, name string) (*corev1.Container, string) {
	if name == "" {
		if len(cs) == 0 {
			return nil, "the pod template has no container"
		}
		return &cs[0], ""
	}
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i], ""
		}
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return nil, "no container " + strconv.Quote(name) + " in the pod template (it has " + quoteAll(names) + ")"
}

// allocated is the quantity of res the container is allocated, as a double
// in base units: its limit when one is set, else its request, unless
// pin (requests or limits) says which.
func allocated(r corev1.ResourceRequirements, res corev1.ResourceName, pin string) (float64, bool) {
	var lists []corev1.ResourceList
	switch pin {
	case generator.AllocationRequests:
		lists = []corev1.ResourceList{r.Requests}
	case generator.AllocationLimits:
		lists = []corev1.ResourceList{r.Limits}
	default:
		lists = []corev1.ResourceList{r.Limits, r.Requests}
	}
	for _, l := range lists {
		if q, ok := l[res]; ok {
			return q.AsApproximateFloat64(), true
		}
	}
	return 0, false
}

// observation is what of v changed since last (nil: nothing was observed
// yet, so everything), as an Observation; ok is false when nothing did.
// An allocation that disappeared from the workload is not reported: the
// last known value holds.
func (v values) observation(last *values) (ob generator.Observation, ok bool) {
	ob.Source = SourceName
	if last == nil || last.replicas != v.replicas {
		ob.Replicas, ob.HasReplicas = v.replicas, true
	}
	if last == nil || last.ready != v.ready || ob.HasReplicas {
		// Ready goes with replicas, or the generator would take
		// replicas as ready too.
		ob.Ready, ob.HasReady = v.ready, true
	}
	for _, m := range slices.Sorted(maps.Keys(v.allocation)) {
		if last != nil {
			if old, had := last.allocation[m]; had && old == v.allocation[m] {
				continue
			}
		}
		if ob.Allocation == nil {
			ob.Allocation = make(map[string]float64, len(v.allocation))
		}
		ob.Allocation[m] = v.allocation[m]
	}
	return ob, ob.HasReplicas || ob.HasReady || len(ob.Allocation) > 0
}

// merge is last with v's fields laid over it (allocations key by key), so
// a value that disappeared from the workload is still the last one
// observed.
func (v values) merge(last *values) values {
	if last == nil || len(last.allocation) == 0 {
		return v
	}
	out := v
	out.allocation = maps.Clone(last.allocation)
	maps.Copy(out.allocation, v.allocation)
	return out
}

func quoteAll(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += strconv.Quote(n)
	}
	return out
}
