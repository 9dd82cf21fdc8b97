package main

import (
	"context"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
)

// appLabel is the label every value carries: the app that sent it.
const appLabel = "app"

// externalGroup is the external metrics API's group, for NotFound errors.
var externalGroup = schema.GroupResource{Group: external_metrics.GroupName}

// externalProvider serves a store as the external metrics API: metric
// name = the is-wire header name, one value per app, labelled app=<name>.
type externalProvider struct{ store *latest.Store }

var _ provider.ExternalMetricsProvider = externalProvider{}

// GetExternalMetric answers the fresh values of info.Metric in namespace
// whose labels match sel, sorted by app: an empty list when none is fresh
// or matches (the HPA: "no metrics returned"), NotFound when the metric is
// unknown (never received, not in --config).
func (p externalProvider) GetExternalMetric(_ context.Context, namespace string, sel labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	if !p.store.Known(info.Metric) {
		return nil, provider.NewMetricNotFoundError(externalGroup, info.Metric)
	}
	list := &external_metrics.ExternalMetricValueList{}
	eachSelected(p.store, info.Metric, namespace, sel, func(v latest.Value) {
		list.Items = append(list.Items, external_metrics.ExternalMetricValue{
			MetricName:   v.Metric,
			MetricLabels: map[string]string{appLabel: v.App},
			Timestamp:    metav1.NewTime(v.Time),
			Value:        quantity(v),
		})
	})
	if len(list.Items) > 1 {
		slices.SortFunc(list.Items, func(a, b external_metrics.ExternalMetricValue) int {
			return strings.Compare(a.MetricLabels[appLabel], b.MetricLabels[appLabel])
		})
	}
	return list, nil
}

// ListAllExternalMetrics lists every known metric name.
func (p externalProvider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	names := p.store.Metrics()
	out := make([]provider.ExternalMetricInfo, len(names))
	for i, name := range names {
		out[i] = provider.ExternalMetricInfo{Metric: name}
	}
	return out
}

// eachSelected calls fn with each fresh value of metric in namespace whose
// labels (app=<name>) match sel. A selector that names its apps (app=web,
// app in (web,db)) costs a lookup per app; any other scans the metric.
func eachSelected(store *latest.Store, metric, namespace string, sel labels.Selector, fn func(latest.Value)) {
	if sel == nil {
		sel = labels.Everything()
	}
	if apps, ok := namedApps(sel); ok {
		for _, app := range apps {
			if v, ok := store.Get(metric, namespace, app); ok && sel.Matches(labels.Set{appLabel: app}) {
				fn(v)
			}
		}
		return
	}
	store.Each(metric, namespace, func(v latest.Value) bool {
		if sel.Matches(labels.Set{appLabel: v.App}) {
			fn(v)
		}
		return true
	})
}

// namedApps are the apps sel limits itself to, when it has an app= or
// app in (...) requirement; false when it may match any app.
func namedApps(sel labels.Selector) ([]string, bool) {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil, true // matches nothing
	}
	for _, r := range reqs {
		if r.Key() != appLabel {
			continue
		}
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			apps := r.Values().UnsortedList()
			slices.Sort(apps)
			return apps, true
		}
	}
	return nil, false
}

// quantity is v's value as a Kubernetes quantity: its text when that is
// one ("750m", "0.5", "1Gi"), else its number to the milli.
func quantity(v latest.Value) resource.Quantity {
	if q, err := resource.ParseQuantity(v.Text); err == nil {
		return q
	}
	return *resource.NewMilliQuantity(int64(math.Round(v.Num*1000)), resource.DecimalSI)
}

// customProvider serves a store as the custom metrics API, for Object
// metrics: the value of metric M on deployments/<name> (or on the workload
// a --config `kubernetes:` section maps an app to) is that app's value.
type customProvider struct{ store *latest.Store }

var _ provider.CustomMetricsProvider = customProvider{}

// kindOf is the workload kind of a custom metrics resource ("deployments",
// "deployments.apps"); false for resources no app is served on.
func kindOf(gr schema.GroupResource) (string, bool) {
	if gr.Group != "" && gr.Group != "apps" {
		return "", false
	}
	switch gr.Resource {
	case "deployments", "deployment":
		return generator.KindDeployment, true
	case "statefulsets", "statefulset":
		return generator.KindStatefulSet, true
	}
	return "", false
}

// GetMetricByName answers the value of info.Metric on one workload:
// NotFound when the metric is unknown, the resource is not a Deployment
// or StatefulSet, no app is served there, its value is missing or aged
// out, or metricSelector does not match app=<name>.
func (p customProvider) GetMetricByName(_ context.Context, name types.NamespacedName, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValue, error) {
	notFound := provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	kind, ok := kindOf(info.GroupResource)
	if !ok || !p.store.Known(info.Metric) {
		return nil, notFound
	}
	app, ok := p.store.Object(name.Namespace, kind, name.Name)
	if !ok || (metricSelector != nil && !metricSelector.Matches(labels.Set{appLabel: app})) {
		return nil, notFound
	}
	v, ok := p.store.Get(info.Metric, name.Namespace, app)
	if !ok {
		return nil, notFound
	}
	mv := metricValue(v, kind, name.Namespace, name.Name)
	return &mv, nil
}

// GetMetricBySelector answers info.Metric on every workload of its kind in
// namespace whose app has a fresh value and whose labels, taken to be
// app=<name> (the bridge does not read the cluster's objects), match
// selector. Unknown metrics and resources are NotFound.
func (p customProvider) GetMetricBySelector(_ context.Context, namespace string, selector labels.Selector, info provider.CustomMetricInfo, metricSelector labels.Selector) (*custom_metrics.MetricValueList, error) {
	kind, ok := kindOf(info.GroupResource)
	if !ok || !p.store.Known(info.Metric) {
		return nil, provider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	if metricSelector == nil {
		metricSelector = labels.Everything()
	}
	list := &custom_metrics.MetricValueList{}
	eachSelected(p.store, info.Metric, namespace, selector, func(v latest.Value) {
		k, name := p.store.Workload(v.App)
		if k == kind && metricSelector.Matches(labels.Set{appLabel: v.App}) {
			list.Items = append(list.Items, metricValue(v, kind, namespace, name))
		}
	})
	slices.SortFunc(list.Items, func(a, b custom_metrics.MetricValue) int {
		return strings.Compare(a.DescribedObject.Name, b.DescribedObject.Name)
	})
	return list, nil
}

// ListAllMetrics lists every known metric on Deployments and StatefulSets.
func (p customProvider) ListAllMetrics() []provider.CustomMetricInfo {
	var out []provider.CustomMetricInfo
	for _, name := range p.store.Metrics() {
		for _, resource := range []string{"deployments", "statefulsets"} {
			out = append(out, provider.CustomMetricInfo{
				GroupResource: schema.GroupResource{Group: "apps", Resource: resource},
				Namespaced:    true,
				Metric:        name,
			})
		}
	}
	return out
}

func metricValue(v latest.Value, kind, namespace, name string) custom_metrics.MetricValue {
	return custom_metrics.MetricValue{
		DescribedObject: custom_metrics.ObjectReference{Kind: kind, APIVersion: "apps/v1", Namespace: namespace, Name: name},
		Metric:          custom_metrics.MetricIdentifier{Name: v.Metric},
		Timestamp:       metav1.NewTime(v.Time),
		Value:           quantity(v),
	}
}
