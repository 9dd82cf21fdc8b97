package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/labsea/metricsender/generator"
)

// newInformer makes the informer of kind, its list and watch calls noted
// for Ready.
func (s *Source) newInformer(kind string) *informer {
	in := &informer{kind: kind}
	var example runtime.Object
	var gvr schema.GroupVersionResource
	selector := s.selector
	handlers := cache.ResourceEventHandlerFuncs{
		AddFunc:    s.seen,
		UpdateFunc: func(_, obj any) { s.seen(obj) },
		DeleteFunc: s.deleted,
	}
	switch kind {
	case kindHPA:
		// --kube-selector narrows the workloads; an HPA need not carry
		// their labels.
		in.resource, example, gvr, selector, handlers = "horizontalpodautoscalers", &autoscalingv2.HorizontalPodAutoscaler{}, hpaResource, "", s.hpaHandlers()
	case generator.KindStatefulSet:
		in.resource, example, gvr = "statefulsets", &appsv1.StatefulSet{}, statefulSetsResource
	default:
		in.resource, example, gvr = "deployments", &appsv1.Deployment{}, deploymentsResource
	}
	list := func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return s.client.List(ctx, gvr, s.namespace, o)
	}
	watchFn := func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return s.client.Watch(ctx, gvr, s.namespace, o)
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			obj, err := list(ctx, o)
			s.note(ctx, in.resource, "list", err)
			return obj, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			w, err := watchFn(ctx, o)
			s.note(ctx, in.resource, "watch", err)
			return w, err
		},
	}
	in.inf = cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, s.client), example,
		cache.SharedIndexInformerOptions{ResyncPeriod: s.resync})
	// Our note() reports list and watch failures; the default handler
	// would log each one again through klog.
	_ = in.inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, _ *cache.Reflector, err error) {
		s.logger.Debug("kubernetes feedback: reflector error", "resource", in.resource, "error", err)
	})
	in.reg, _ = in.inf.AddEventHandler(handlers)
	return in
}

// note records the outcome of a list or watch call of resource.
func (s *Source) note(ctx context.Context, resource, verb string, err error) {
	if err != nil && ctx.Err() != nil {
		return // stopping
	}
	key := resource + " " + verb
	s.mu.Lock()
	faults := s.faults
	if resource == s.hpaInf.resource {
		faults = s.hpaFaults // kept apart: /readyz does not wait for the HPAs
	}
	prev := faults[key]
	if err == nil {
		delete(faults, key)
	} else {
		faults[key] = fmt.Errorf("kubernetes feedback: %s %s in namespace %q: %w", verb, resource, s.namespace, err)
	}
	healthy := len(faults) == 0
	s.mu.Unlock()
	switch {
	case err != nil:
		if resource == s.hpaInf.resource {
			s.hpaWarn.Warn(key, "verb", verb, "resource", resource, "error", err, "hint", hpaHint(err))
		} else {
			s.warn.Warn(key, "verb", verb, "resource", resource, "error", err, "hint", hint(err))
		}
	case prev != nil && healthy:
		s.logger.Info("kubernetes feedback: reading the cluster again", "verb", verb, "resource", resource)
	}
}
