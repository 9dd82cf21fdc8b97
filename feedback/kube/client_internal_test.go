package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// TestRESTClient checks the narrow client against a stand-in API server:
// the paths and parameters it sends, the typed objects it decodes, and
// that a refusal comes back as the API's own error (TestKubeAPIServer does
// the same against a real one when it runs).
func TestRESTClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/apis/autoscaling/v2/namespaces/lab/horizontalpodautoscalers":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"kind":"HorizontalPodAutoscalerList","apiVersion":"autoscaling/v2","metadata":{"resourceVersion":"9"},`+
				`"items":[{"metadata":{"name":"web","namespace":"lab"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":7}}]}`)
		case r.URL.Path == "/apis/apps/v1/namespaces/lab/statefulsets":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,`+
				`"message":"statefulsets.apps is forbidden: no","details":{"group":"apps","kind":"statefulsets"}}`)
		case r.URL.Path != "/apis/apps/v1/namespaces/lab/deployments" || q.Get("labelSelector") != "team=web":
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
		case q.Get("watch") == "true":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"type":"ADDED","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"api","namespace":"lab"},"spec":{"replicas":4}}}`+"\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"7"},`+
				`"items":[{"metadata":{"name":"web","namespace":"lab"},"spec":{"replicas":3}}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := newRESTClient(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	opts := metav1.ListOptions{LabelSelector: "team=web"}

	obj, err := c.List(ctx, deploymentsResource, "lab", opts)
	if err != nil {
		t.Fatal(err)
	}
	list, ok := obj.(*appsv1.DeploymentList)
	if !ok || list.ResourceVersion != "7" || len(list.Items) != 1 || list.Items[0].Name != "web" || *list.Items[0].Spec.Replicas != 3 {
		t.Errorf("List = %#v, want a DeploymentList of web with 3 replicas", obj)
	}

	w, err := c.Watch(ctx, deploymentsResource, "lab", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	if d, ok := ev.Object.(*appsv1.Deployment); ev.Type != watch.Added || !ok || d.Name != "api" || *d.Spec.Replicas != 4 {
		t.Errorf("watch event = %v %#v, want ADDED of Deployment api with 4 replicas", ev.Type, ev.Object)
	}

	obj, err = c.List(ctx, hpaResource, "lab", metav1.ListOptions{})
	if hpas, ok := obj.(*autoscalingv2.HorizontalPodAutoscalerList); err != nil || !ok || len(hpas.Items) != 1 || hpas.Items[0].Spec.MaxReplicas != 7 {
		t.Errorf("List of HPAs = %#v, %v; want a HorizontalPodAutoscalerList of web with max 7", obj, err)
	}

	if _, err := c.List(ctx, statefulSetsResource, "lab", opts); !apierrors.IsForbidden(err) {
		t.Errorf("List of a refused resource: %v, want a Forbidden API error", err)
	}
}
