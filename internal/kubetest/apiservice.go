//go:build kubeapiserver

package kubetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The metrics APIs an HPA reads, as RegisterMetricsAPIs registers them.
const (
	ExternalMetricsGroup = "external.metrics.k8s.io"
	CustomMetricsGroup   = "custom.metrics.k8s.io"
)

// apiServiceNamespace and apiServiceName name the ExternalName Service
// every registered APIService points at.
const (
	apiServiceNamespace = "metricsender"
	apiServiceName      = "metrics-api"
)

var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// RegisterMetricsAPIs registers external.metrics.k8s.io and
// custom.metrics.k8s.io v1beta1 as served by a server on 127.0.0.1:port
// (see RegisterAPIService) and waits until both are Available.
func (c *Cluster) RegisterMetricsAPIs(t testing.TB, port int) {
	t.Helper()
	c.RegisterAPIService(t, ExternalMetricsGroup, "v1beta1", port)
	c.RegisterAPIService(t, CustomMetricsGroup, "v1beta1", port)
}

// RegisterAPIService makes the aggregator proxy group/version to an
// extension API server on https://127.0.0.1:port, and returns once the
// APIService is Available: the aggregator reached the server and read
// its discovery document, so start the server first. The APIService
// points at an ExternalName Service (metricsender/metrics-api, name
// 127.0.0.1): with --enable-aggregator-routing=false the aggregator dials
// the ExternalName at the APIService's port, with no Endpoints. The
// server's certificate is not verified (insecureSkipTLSVerify); the
// aggregator presents the front-proxy client certificate (FrontProxyCA).
// Registering a group again points it at the new port.
func (c *Cluster) RegisterAPIService(t testing.TB, group, version string, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Config.StartTimeout)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: apiServiceNamespace}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", apiServiceNamespace, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: apiServiceName, Namespace: apiServiceNamespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
	}
	if _, err := c.Client.CoreV1().Services(apiServiceNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create Service %s/%s: %v", apiServiceNamespace, apiServiceName, err)
	}

	name := version + "." + group
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"group":   group,
			"version": version,
			"service": map[string]any{
				"name": apiServiceName, "namespace": apiServiceNamespace, "port": int64(port),
			},
			"insecureSkipTLSVerify": true,
			"groupPriorityMinimum":  int64(100),
			"versionPriority":       int64(100),
		},
	}}
	client := dynamic.NewForConfigOrDie(c.Rest).Resource(apiServices)
	if _, err := client.Create(ctx, obj, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		err = unstructured.SetNestedField(obj.Object, int64(port), "spec", "service", "port")
		if err == nil {
			_, err = client.Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: "kubetest", Force: true})
		}
		if err != nil {
			t.Fatalf("update APIService %s: %v", name, err)
		}
	} else if err != nil {
		t.Fatalf("create APIService %s: %v", name, err)
	}

	var last string
	for {
		got, err := client.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			ok, why := available(got)
			if ok {
				return
			}
			last = why
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("APIService %s (-> 127.0.0.1:%d) not Available after %s: %s", name, port, c.Config.StartTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// available reads an APIService's Available condition: whether it is
// True, and else its reason and message.
func available(apiService *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(apiService.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != "Available" {
			continue
		}
		if m["status"] == "True" {
			return true, ""
		}
		return false, fmt.Sprintf("Available=%v %v: %v", m["status"], m["reason"], m["message"])
	}
	return false, "no Available condition yet"
}
