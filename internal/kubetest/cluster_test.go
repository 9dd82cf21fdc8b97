//go:build kubeapiserver

package kubetest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labsea/metricsender/internal/kubetest"
)

// TestCluster starts the test cluster and checks what the HPA tests rely
// on: the deployment and replicaset controllers act on a Deployment
// scaled through its scale subresource (as kubectl scale and the HPA
// do), and the aggregator proxies a registered APIService to a server on
// 127.0.0.1 with the front-proxy client certificate and the caller's name.
func TestCluster(t *testing.T) {
	start := time.Now()
	c := kubetest.StartCluster(t, kubetest.ClusterConfig{})
	t.Logf("cluster started in %s", time.Since(start).Round(10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("a scaled Deployment gets its pods", func(t *testing.T) {
		deps := c.Client.AppsV1().Deployments("default")
		if _, err := deps.Create(ctx, deployment("web", 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPods(t, ctx, c, "app=web", 1)
		scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: autoscalingv1.ScaleSpec{Replicas: 3}}
		if _, err := deps.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPods(t, ctx, c, "app=web", 3)
		got, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for got.Status.Replicas != 3 {
			if ctx.Err() != nil {
				t.Fatalf("scale status.replicas = %d, want 3", got.Status.Replicas)
			}
			time.Sleep(100 * time.Millisecond)
			if got, err = deps.GetScale(ctx, "web", metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("the aggregator proxies a registered APIService", func(t *testing.T) {
		seen := make(chan string, 16)
		port := discoveryServer(t, c.FrontProxyCA, kubetest.ExternalMetricsGroup, seen)
		c.RegisterAPIService(t, kubetest.ExternalMetricsGroup, "v1beta1", port)
		raw, err := c.Client.Discovery().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1").DoRaw(ctx)
		if err != nil {
			t.Fatalf("GET through the aggregator: %v", err)
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal(raw, &list); err != nil || list.GroupVersion != "external.metrics.k8s.io/v1beta1" {
			t.Fatalf("GET through the aggregator = %s (%v), want the server's APIResourceList", raw, err)
		}
		for {
			select {
			case user := <-seen:
				if user == "metricsender-test" {
					return // the proxied request, as the kubeconfig's user
				}
			case <-ctx.Done():
				t.Fatal("the server saw no request as metricsender-test with a front-proxy client certificate")
			}
		}
	})
}

// deployment is a Deployment of an image nothing pulls: its pods stay
// Pending, there being no kubelet.
func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: name + ":test"}}},
			},
		},
	}
}

// waitPods waits until selector matches exactly n pods in default.
func waitPods(t *testing.T, ctx context.Context, c *kubetest.Cluster, selector string, n int) {
	t.Helper()
	for {
		pods, err := c.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil && len(pods.Items) == n {
			return
		}
		select {
		case <-ctx.Done():
			got := -1
			if pods != nil {
				got = len(pods.Items)
			}
			t.Fatalf("pods %s: %d (err %v), want %d", selector, got, err, n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// discoveryServer serves group's v1beta1 discovery document over TLS on a
// free port of 127.0.0.1, and sends on seen the X-Remote-User of each
// request whose client certificate the front-proxy CA signed.
func discoveryServer(t *testing.T, frontProxyCA, group string, seen chan<- string) int {
	t.Helper()
	pem, err := os.ReadFile(frontProxyCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	var once sync.Once
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.VerifiedChains) > 0 {
			select {
			case seen <- r.Header.Get("X-Remote-User"):
			default:
			}
		}
		once.Do(func() { t.Logf("first request: %s %s", r.Method, r.URL.Path) })
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: group + "/v1beta1",
			APIResources: []metav1.APIResource{},
		})
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return p
}
