package generator

import (
	"maps"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The kinds of workload a `kubernetes:` section may name.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
)

// The values of a `kubernetes:` section's allocation, pinning where
// allocation.<metric> is read from. Without one, a container's limit for
// the resource is read when it has one, else its request.
const (
	AllocationRequests = "requests"
	AllocationLimits   = "limits"
)

// Kubernetes is a `kubernetes:` section: how the kubernetes feedback source
// maps a simulated deployment to a workload of the cluster, and what it
// reads there. Empty fields mean "not set". Read-only: the copies `count`
// makes share it.
type Kubernetes struct {
	// Kind is KindDeployment or KindStatefulSet; "" means KindDeployment.
	Kind string
	// Name is the workload's name; "" means the deployment's own name
	// (each copy's own name, web-0 .. web-49, under `count`). Only a
	// deployment's section has one.
	Name string
	// Namespace is the workload's namespace; "" means not set. Only the
	// metrics API bridge (package latest) reads it: it serves the
	// deployment's values in that namespace alone instead of in every
	// one. The kubernetes feedback source watches --kube-namespace.
	Namespace string
	// Container names the container whose resources are read; "" means
	// the first of the pod template.
	Container string
	// Allocation is AllocationRequests or AllocationLimits; "" reads the
	// limit of a resource when one is set, else its request.
	Allocation string
	// Resources maps a metric name to the resource read for
	// allocation.<metric>, beside the defaults (cpu and memory to
	// themselves, gpu to nvidia.com/gpu); nil for none.
	Resources map[string]string
}

// DefaultResources is the resource each metric's allocation is read from
// when no `resources:` entry names one. Read-only.
var DefaultResources = map[string]string{"cpu": "cpu", "memory": "memory", "gpu": "nvidia.com/gpu"}

// merged returns k with the unset fields of base filled in and base's
// resources beneath k's own; either may be nil (both nil: nil).
func (k *Kubernetes) merged(base *Kubernetes) *Kubernetes {
	switch {
	case base == nil:
		return k
	case k == nil:
		return base
	}
	out := *k
	out.Kind = cmpOr(k.Kind, base.Kind)
	out.Namespace = cmpOr(k.Namespace, base.Namespace)
	out.Container = cmpOr(k.Container, base.Container)
	out.Allocation = cmpOr(k.Allocation, base.Allocation)
	if len(base.Resources) > 0 {
		out.Resources = maps.Clone(base.Resources)
		maps.Copy(out.Resources, k.Resources)
	}
	return &out
}

// kubernetes parses a `kubernetes:` section, top level (top: no name) or a
// deployment's. nil when a problem was recorded.
func (p *parser) kubernetes(e entry, field string, top bool) *Kubernetes {
	before := len(p.errs)
	_, keys, ok := p.mapping(e.key, e.val, field, "kind", "name", "namespace", "container", "allocation", "resources")
	if !ok {
		return nil
	}
	k := &Kubernetes{}
	if v, ok := keys["name"]; ok && top {
		p.fail(v.key, join(field, "name"), "only a deployment's kubernetes: section names an object")
		delete(keys, "name")
	}
	// oneOf sets *dst to key's value when it is a or b.
	oneOf := func(key string, dst *string, a, b string) {
		v, ok := keys[key]
		if !ok {
			return
		}
		if s, ok := p.scalar(v.key, v.val, join(field, key)); ok {
			if s != a && s != b {
				p.fail(v.key, join(field, key), "want %s or %s, got %q", a, b, s)
				return
			}
			*dst = s
		}
	}
	// objectName sets *dst to key's value when problems finds none in it;
	// what says what it must be.
	objectName := func(key string, dst *string, problems func(string) []string, what string) {
		v, ok := keys[key]
		if !ok {
			return
		}
		if s, ok := p.scalar(v.key, v.val, join(field, key)); ok {
			if len(problems(s)) > 0 {
				p.fail(v.key, join(field, key), "not a %s: %q", what, s)
				return
			}
			*dst = s
		}
	}
	oneOf("kind", &k.Kind, KindDeployment, KindStatefulSet)
	objectName("name", &k.Name, validation.IsDNS1123Subdomain,
		"Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253, starting and ending with a letter or digit)")
	objectName("namespace", &k.Namespace, validation.IsDNS1123Label,
		"namespace name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)")
	objectName("container", &k.Container, validation.IsDNS1123Label,
		"container name (lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit)")
	oneOf("allocation", &k.Allocation, AllocationRequests, AllocationLimits)
	if v, ok := keys["resources"]; ok {
		k.Resources = metricMap(p, v, join(field, "resources"), func(m entry, mf string) (string, bool) {
			s, ok := p.scalar(m.key, m.val, mf)
			if ok && len(validation.IsQualifiedName(s)) > 0 {
				p.fail(m.key, mf, "not a resource name (like memory or amd.com/gpu): %q", s)
				return "", false
			}
			return s, ok
		})
	}
	if len(p.errs) > before {
		return nil
	}
	return k
}
