package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// Client lists and watches one resource of a namespace: all the informers
// need. It is this narrow, rather than client-go's clientset, because the
// clientset's scheme imports every API group (about 200 packages, most of
// a fresh build of the binary); the REST client below knows only the
// groups read. A Client that also has IsWatchListSemanticsUnSupported()
// (client-go's fake clientset does) is asked before a watch-list.
type Client interface {
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) (runtime.Object, error)
	Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) (watch.Interface, error)
}

// Resources read, by kind; groups lists their group versions. To read
// one more group, add its AddToScheme to addGroups and its version here.
var (
	deploymentsResource  = appsv1.SchemeGroupVersion.WithResource("deployments")
	statefulSetsResource = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	hpaResource          = autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers")
	groups               = []schema.GroupVersion{appsv1.SchemeGroupVersion, autoscalingv2.SchemeGroupVersion}
)

func addGroups(s *runtime.Scheme) error {
	// ListOptions and the other meta types go in every group, as in
	// client-go's own scheme.
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return errors.Join(appsv1.AddToScheme(s), autoscalingv2.AddToScheme(s))
}

// restClient is a Client over the API server: one REST client per group
// version, sharing one HTTP client, decoding with a scheme of those
// groups only.
type restClient struct {
	params runtime.ParameterCodec
	byGV   map[schema.GroupVersion]rest.Interface
}

func newRESTClient(rc *rest.Config) (*restClient, error) {
	scheme := runtime.NewScheme()
	if err := addGroups(scheme); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	codecs := rest.CodecFactoryForGeneratedClient(scheme, serializer.NewCodecFactory(scheme))
	httpClient, err := rest.HTTPClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("http client: %w", err)
	}
	c := &restClient{params: runtime.NewParameterCodec(scheme), byGV: map[schema.GroupVersion]rest.Interface{}}
	for _, gv := range groups {
		cfg := rest.CopyConfig(rc)
		cfg.GroupVersion = &gv
		cfg.APIPath = "/apis"
		cfg.NegotiatedSerializer = codecs.WithoutConversion()
		rcl, err := rest.RESTClientForConfigAndClient(cfg, httpClient)
		if err != nil {
			return nil, fmt.Errorf("rest client for %s: %w", gv, err)
		}
		c.byGV[gv] = rcl
	}
	return c, nil
}

func (c *restClient) request(gvr schema.GroupVersionResource, namespace string, opts *metav1.ListOptions) (*rest.Request, error) {
	rcl, ok := c.byGV[gvr.GroupVersion()]
	if !ok {
		return nil, fmt.Errorf("no client for %s", gvr)
	}
	var timeout time.Duration
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	return rcl.Get().Namespace(namespace).Resource(gvr.Resource).VersionedParams(opts, c.params).Timeout(timeout), nil
}

// List returns the typed list (an appsv1.DeploymentList, say), or the
// API server's error as client-go's typed clients return it.
func (c *restClient) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) (runtime.Object, error) {
	req, err := c.request(gvr, namespace, &opts)
	if err != nil {
		return nil, err
	}
	return req.Do(ctx).Get()
}

// Watch starts a watch, as client-go's typed clients do.
func (c *restClient) Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	req, err := c.request(gvr, namespace, &opts)
	if err != nil {
		return nil, err
	}
	return req.Watch(ctx)
}
