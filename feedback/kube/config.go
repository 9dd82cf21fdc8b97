package kube

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/labsea/metricsender/generator"
)

// SourceName is the Observation.Source of what this package observes.
const SourceName = "kubernetes"

// serviceAccountNamespace is where a pod finds its own namespace (with its
// token mounted).
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Config configures a Source. The zero value (plus Deployments) reads the
// cluster the process runs in, else the kubeconfig's current context.
type Config struct {
	// Deployments are the simulated deployments to map to workloads (a
	// generator.Config's); SetDeployments replaces them on a reload.
	Deployments []generator.Deployment
	// Namespace is watched; "" means the pod's own namespace in a cluster,
	// else the kubeconfig context's (else "default").
	Namespace string
	// Selector narrows the workloads watched (a label selector,
	// "team=web,tier!=db"); "" for all.
	Selector string
	// Kubeconfig is a kubeconfig file to use. "" means the in-cluster
	// config when the process runs in a pod, else the KUBECONFIG
	// environment variable, else ~/.kube/config.
	Kubeconfig string
	// REST, when set, is the API server's client config, used as it is
	// (Kubeconfig is then ignored). Tests and callers that hold one set it.
	REST *rest.Config
	// Client, when set, is used (client-go's fake clientset, adapted, in
	// tests); REST and Kubeconfig are then ignored.
	Client Client
	// Resync re-delivers every workload this often (0: never); nothing is
	// observed again unless a value changed.
	Resync time.Duration
	// HPATolerance and HPADownscaleStabilization are the settings of the
	// cluster's kube-controller-manager that an HPA's spec does not carry
	// (--horizontal-pod-autoscaler-tolerance, -downscale-stabilization),
	// for judging HPAs; nil: the controller's defaults,
	// DefaultHPATolerance and DefaultHPADownscaleStabilization.
	HPATolerance              *float64
	HPADownscaleStabilization *time.Duration
}

func (c Config) hpaDefaults() hpaDefaults {
	d := hpaDefaults{tolerance: DefaultHPATolerance, stabilization: DefaultHPADownscaleStabilization}
	if c.HPATolerance != nil {
		d.tolerance = *c.HPATolerance
	}
	if c.HPADownscaleStabilization != nil {
		d.stabilization = *c.HPADownscaleStabilization
	}
	return d
}

// Validate reports every problem of c, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Namespace != "" {
		if len(validation.IsDNS1123Label(c.Namespace)) > 0 {
			errs = append(errs, fmt.Errorf("namespace %q: not a namespace name (lowercase letters, digits and '-', at most 63)", c.Namespace))
		}
	}
	if _, err := labels.Parse(c.Selector); err != nil {
		errs = append(errs, fmt.Errorf("selector %q: %w", c.Selector, err))
	}
	if c.Resync < 0 {
		errs = append(errs, fmt.Errorf("resync %s: must be >= 0", c.Resync))
	}
	if t := c.HPATolerance; t != nil && (*t < 0 || *t >= 1) {
		errs = append(errs, fmt.Errorf("hpa tolerance %g: must be in [0, 1)", *t))
	}
	if d := c.HPADownscaleStabilization; d != nil && *d < 0 {
		errs = append(errs, fmt.Errorf("hpa downscale stabilization %s: must be >= 0", *d))
	}
	return errors.Join(errs...)
}

// client returns the client c names and the namespace to watch.
func (c Config) client() (Client, string, error) {
	if c.Client != nil {
		return c.Client, cmp.Or(c.Namespace, "default"), nil
	}
	rc, ns, err := c.restConfig()
	if err != nil {
		return nil, "", err
	}
	rc = rest.CopyConfig(rc)
	if rc.UserAgent == "" {
		rc.UserAgent = "metricsender (kubernetes feedback)"
	}
	cs, err := newRESTClient(rc)
	if err != nil {
		return nil, "", fmt.Errorf("client: %w", err)
	}
	return cs, cmp.Or(c.Namespace, ns, "default"), nil
}

// restConfig resolves the API server's config and its default namespace.
func (c Config) restConfig() (*rest.Config, string, error) {
	if c.REST != nil {
		return c.REST, "", nil
	}
	if c.Kubeconfig == "" {
		if rc, err := rest.InClusterConfig(); err == nil {
			ns, _ := os.ReadFile(serviceAccountNamespace)
			return rc, strings.TrimSpace(string(ns)), nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", errors.New("not in a cluster and no kubeconfig (--kubeconfig, KUBECONFIG or ~/.kube/config)")
		}
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig namespace: %w", err)
	}
	return rc, ns, nil
}
