package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/latest"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// testStore is a store holding cpu of web (750m), db (2) and api
// (0.5), received at t0, with the config text run ("" for none); its
// clock reads now().
func testStore(t *testing.T, run string, now func() time.Time) *latest.Store {
	t.Helper()
	var cfg *generator.Config
	if run != "" {
		var err error
		if cfg, err = generator.Parse("run.yaml", []byte(run)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := latest.New(latest.Config{Run: cfg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for app, v := range map[string]generator.Value{
		"web": {Text: "750m", Num: 0.75, HasNum: true},
		"db":  {Text: "2", Num: 2, HasNum: true},
		"api": {Text: "0.5", Num: 0.5, HasNum: true},
	} {
		s.Put(codec.Received{App: app, Time: t0, Metrics: []generator.Metric{{Name: "cpu", Value: v}}})
	}
	return s
}

func selector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func TestExternalProvider(t *testing.T) {
	now := t0
	p := externalProvider{testStore(t, "deployments:\n  - name: web\n    kubernetes: {namespace: shop}\n    metrics:\n      cpu: [1]\n      memory: [1]\n", func() time.Time { return now })}
	tests := []struct {
		name, metric, ns, sel string
		after                 time.Duration // clock, after t0
		want                  []string      // app=quantity, in order
		notFound              bool
	}{
		{"one app by app=", "cpu", "shop", "app=web", 0, []string{"web=750m"}, false},
		{"apps by app in", "cpu", "shop", "app in (web,db,nope)", 0, []string{"db=2", "web=750m"}, false},
		{"every app, sorted", "cpu", "shop", "", 0, []string{"api=500m", "db=2", "web=750m"}, false},
		{"a selector that scans", "cpu", "shop", "app!=db", 0, []string{"api=500m", "web=750m"}, false},
		{"an app mapped to another namespace is not here", "cpu", "default", "app=web", 0, nil, false},
		{"a selector matching no app: empty", "cpu", "shop", "app=nope", 0, nil, false},
		{"a label other than app matches nothing", "cpu", "shop", "tier=gold", 0, nil, false},
		{"a known metric without values: empty", "memory", "shop", "app=web", 0, nil, false},
		{"aged out: empty", "cpu", "shop", "app=web", 3*generator.DefaultInterval + time.Second, nil, false},
		{"an unknown metric: NotFound", "gpu", "shop", "app=web", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = t0.Add(tt.after)
			list, err := p.GetExternalMetric(context.Background(), tt.ns, selector(t, tt.sel), provider.ExternalMetricInfo{Metric: tt.metric})
			if tt.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range list.Items {
				got = append(got, it.MetricLabels[appLabel]+"="+it.Value.String())
				if it.MetricName != tt.metric || !it.Timestamp.Time.Equal(t0) {
					t.Errorf("item %+v: want metric %s at %s", it, tt.metric, t0)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
		})
	}
	if got := p.ListAllExternalMetrics(); !slices.Equal(got, []provider.ExternalMetricInfo{{Metric: "cpu"}, {Metric: "memory"}}) {
		t.Errorf("ListAllExternalMetrics() = %v", got)
	}
}

func TestCustomProviderByName(t *testing.T) {
	now := t0
	p := customProvider{testStore(t, "deployments:\n  - name: api\n    kubernetes: {kind: StatefulSet, name: api-db}\n    metrics:\n      cpu: [1]\n", func() time.Time { return now })}
	deployments := schema.GroupResource{Group: "apps", Resource: "deployments"}
	tests := []struct {
		name      string
		gr        schema.GroupResource
		object    string
		metric    string
		metricSel string
		after     time.Duration
		want      string // quantity; "" for NotFound
	}{
		{"deployments.apps/<app>", deployments, "web", "cpu", "", 0, "750m"},
		{"deployments/<app> (no group)", schema.GroupResource{Resource: "deployments"}, "db", "cpu", "", 0, "2"},
		{"a mapped StatefulSet", schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "api-db", "cpu", "", 0, "500m"},
		{"a metric selector naming the app", deployments, "web", "cpu", "app=web", 0, "750m"},
		{"a metric selector naming another app", deployments, "web", "cpu", "app=db", 0, ""},
		{"an object with no app", deployments, "nope", "cpu", "", 0, ""},
		{"an unknown metric", deployments, "web", "gpu", "", 0, ""},
		{"a resource that is not a workload", schema.GroupResource{Resource: "pods"}, "web", "cpu", "", 0, ""},
		{"aged out", deployments, "web", "cpu", "", time.Hour, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = t0.Add(tt.after)
			info := provider.CustomMetricInfo{GroupResource: tt.gr, Namespaced: true, Metric: tt.metric}
			v, err := p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "default", Name: tt.object}, info, selector(t, tt.metricSel))
			if tt.want == "" {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("err = %v, want NotFound", err)
				}
				if status := err.(apierrors.APIStatus).Status(); status.Code != http.StatusNotFound {
					t.Errorf("status %d, want 404", status.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Value.String() != tt.want || v.DescribedObject.Name != tt.object || v.Metric.Name != tt.metric || !v.Timestamp.Time.Equal(t0) {
				t.Errorf("value %+v, want %s of %s", v, tt.want, tt.object)
			}
		})
	}
}

func TestCustomProviderBySelector(t *testing.T) {
	p := customProvider{testStore(t, "deployments:\n  - name: api\n    kubernetes: {kind: StatefulSet, name: api-db}\n    metrics:\n      cpu: [1]\n", func() time.Time { return t0 })}
	tests := []struct {
		resource, sel string
		want          []string // object=quantity
	}{
		{"deployments", "", []string{"db=2", "web=750m"}},
		{"deployments", "app=web", []string{"web=750m"}},
		{"statefulsets", "", []string{"api-db=500m"}},
	}
	for _, tt := range tests {
		t.Run(tt.resource+" "+tt.sel, func(t *testing.T) {
			info := provider.CustomMetricInfo{GroupResource: schema.GroupResource{Group: "apps", Resource: tt.resource}, Namespaced: true, Metric: "cpu"}
			list, err := p.GetMetricBySelector(context.Background(), "default", selector(t, tt.sel), info, labels.Everything())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range list.Items {
				got = append(got, it.DescribedObject.Name+"="+it.Value.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
		})
	}
	if n := len(p.ListAllMetrics()); n != 2 {
		t.Errorf("ListAllMetrics: %d entries, want 2 (cpu on deployments and statefulsets)", n)
	}
}

func TestQuantity(t *testing.T) {
	tests := []struct {
		v    latest.Value
		want string
	}{
		{latest.Value{Text: "750m", Num: 0.75}, "750m"},
		{latest.Value{Text: "0.25", Num: 0.25}, "250m"},
		{latest.Value{Text: "128Mi", Num: 134217728}, "128Mi"},
		{latest.Value{Text: "not-a-quantity", Num: 1.5}, "1500m"},
	}
	for _, tt := range tests {
		t.Run(tt.v.Text, func(t *testing.T) {
			q := quantity(tt.v)
			if got := q.String(); got != tt.want {
				t.Errorf("quantity(%s) = %s, want %s", tt.v.Text, got, tt.want)
			}
		})
	}
}
