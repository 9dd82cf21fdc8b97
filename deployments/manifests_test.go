package deployments_test

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/types"
)

// Names shared by the manifests, the Dockerfile and the program.
const (
	configMapName = "metricsender-config"
	configKey     = "metricsender.yaml"
	configMount   = "/config"
	secretName    = "metricsender-broker"
	uriEnv        = "METRICSENDER_URI"
	httpPort      = 8080
	imageUser     = 65532
	senderName    = "metricsender"
	receiverName  = "metricsender-receiver"
	devBrokerName = "rabbitmq"
	configMapFile = "configmap.yaml" // TestConfigMapFile -update writes it
)

// TestKustomizations renders every kustomization and component under
// deployments/ (a component in an overlay of the base) with the kustomize
// engine kubectl embeds, decodes each rendered object strictly into its Go
// type, and checks what holds for all of them.
func TestKustomizations(t *testing.T) {
	for _, dir := range kustomizeRoots(t, deploymentsDir) {
		t.Run(dir, func(t *testing.T) {
			objs, k, err := renderRoot(t, deploymentsDir, dir)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case k.Kind == types.ComponentKind && k.APIVersion == "kustomize.config.k8s.io/v1alpha1":
			case k.Kind == types.KustomizationKind && k.APIVersion == "kustomize.config.k8s.io/v1beta1":
				if len(k.Patches) != 0 {
					t.Errorf("patches: only a component (sharded/, feedback-kubernetes/) patches the base")
				}
			default:
				t.Errorf("apiVersion/kind = %s/%s, want kustomize.config.k8s.io/v1beta1/Kustomization (or v1alpha1/Component)", k.APIVersion, k.Kind)
			}
			if k.Namespace != "" {
				t.Errorf("namespace %q: the manifests stay namespace-agnostic (kubectl -n or an overlay sets it)", k.Namespace)
			}
			if len(objs) == 0 {
				t.Error("renders nothing")
			}
			for _, obj := range objs {
				if ns := metaOf(t, obj).GetNamespace(); ns != "" && !inKubeSystem(obj) {
					t.Errorf("%s %s: metadata.namespace = %q, want none", obj.GetObjectKind().GroupVersionKind().Kind, nameOf(t, obj), ns)
				}
			}
			checkFilesListed(t, dir, k)
			checkMonitoring(t, objs)
		})
	}
}

// inKubeSystem reports the one object that must name its namespace: the
// metrics API bridge's RoleBinding to extension-apiserver-authentication-reader,
// which is a Role of kube-system.
func inKubeSystem(obj runtime.Object) bool {
	rb, ok := obj.(*rbacv1.RoleBinding)
	return ok && rb.Namespace == "kube-system" && rb.RoleRef.Name == "extension-apiserver-authentication-reader"
}

// checkFilesListed asserts every YAML file of dir is one the kustomization
// reads (a resource, a patch or a generator's file): a file left out is
// never applied.
func checkFilesListed(t *testing.T, dir string, k types.Kustomization) {
	t.Helper()
	used := slices.Clone(k.Resources)
	for _, p := range k.Patches {
		used = append(used, p.Path)
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.FileSources {
			_, path, found := strings.Cut(f, "=")
			if !found {
				path = f
			}
			used = append(used, path)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || !isYAML(e.Name()) || e.Name() == "kustomization.yaml" {
			continue
		}
		if !slices.Contains(used, e.Name()) {
			t.Errorf("%s is not listed in %s/kustomization.yaml resources, patches or generators", e.Name(), dir)
		}
	}
}

func isYAML(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

func TestConfigMapAndSecret(t *testing.T) {
	base := render(t, ".")
	t.Run("configmap holds the example config", func(t *testing.T) {
		cm := object[*corev1.ConfigMap](t, base, configMapName)
		if len(cm.Data) != 1 || len(cm.BinaryData) != 0 {
			t.Errorf("want exactly the key %q, got data keys %v", configKey, keys(cm.Data))
		}
		want, err := os.ReadFile(filepath.Join(repoRoot, "examples", "metricsender.yaml"))
		if err != nil {
			t.Fatalf("read example config: %v", err)
		}
		if got := cm.Data[configKey]; got != string(want) {
			t.Errorf("data[%q] differs from examples/metricsender.yaml; regenerate: go test -C deployments . -run TestConfigMapFile -update", configKey)
		}
	})
	t.Run("secret holds an amqp uri for the dev broker", func(t *testing.T) {
		s := object[*corev1.Secret](t, base, secretName)
		if s.Type != corev1.SecretTypeOpaque {
			t.Errorf("secret %s type %s, want Opaque", s.Name, s.Type)
		}
		u, err := url.Parse(s.StringData[uriEnv])
		if err != nil || u.Scheme != "amqp" {
			t.Fatalf("stringData[%s] = %q: want an amqp:// URI (err %v)", uriEnv, s.StringData[uriEnv], err)
		}
		svc := object[*corev1.Service](t, render(t, "dev-rabbitmq"), devBrokerName)
		if u.Hostname() != svc.Name || u.Port() != "5672" {
			t.Errorf("uri host %s:%s, want the dev broker's Service %s:5672", u.Hostname(), u.Port(), svc.Name)
		}
	})
}

func TestWorkloads(t *testing.T) {
	tests := []struct {
		name, dir, deployment, command string
	}{
		{name: "sender", dir: ".", deployment: senderName, command: "send"},
		{name: "receiver", dir: "receiver", deployment: receiverName, command: "receive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := object[*appsv1.Deployment](t, render(t, tt.dir), tt.deployment)
			pod := d.Spec.Template.Spec
			c := container(t, d.Spec.Template, "metricsender")
			if len(c.Args) == 0 || c.Args[0] != tt.command {
				t.Errorf("args = %q, want %q first", c.Args, tt.command)
			}
			if len(c.Command) != 0 {
				t.Errorf("command = %q: keep the image's ENTRYPOINT", c.Command)
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
				t.Errorf("replicas = %v, want 1 (a second copy duplicates every stream)", d.Spec.Replicas)
			}
			sel, err := metav1LabelSelector(d)
			if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("selector %v does not match the pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
			}
			checkURIFromSecret(t, c)
			checkConfigMount(t, pod, c)
			checkHTTP(t, c)
			checkResources(t, c)
			checkSecurity(t, pod, c)
		})
	}
}

func metav1LabelSelector(d *appsv1.Deployment) (labels.Selector, error) {
	if d.Spec.Selector == nil {
		return labels.Nothing(), nil
	}
	return labels.ValidatedSelectorFromSet(d.Spec.Selector.MatchLabels)
}

func checkURIFromSecret(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name != uriEnv {
			continue
		}
		ref := e.ValueFrom
		if e.Value != "" || ref == nil || ref.SecretKeyRef == nil {
			t.Fatalf("env %s must come from a secretKeyRef, not a literal", uriEnv)
		}
		if ref.SecretKeyRef.Name != secretName || ref.SecretKeyRef.Key != uriEnv {
			t.Errorf("env %s from secret %s key %s, want %s key %s", uriEnv,
				ref.SecretKeyRef.Name, ref.SecretKeyRef.Key, secretName, uriEnv)
		}
		return
	}
	t.Errorf("no env %s", uriEnv)
}

func checkConfigMount(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	var mount *corev1.VolumeMount
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].MountPath == configMount {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("nothing mounted at %s", configMount)
	}
	if !mount.ReadOnly {
		t.Errorf("%s is mounted read-write", configMount)
	}
	if mount.SubPath != "" || mount.SubPathExpr != "" {
		t.Errorf("%s uses subPath: a subPath mount never sees ConfigMap updates (no hot reload)", configMount)
	}
	for _, v := range pod.Volumes {
		if v.Name != mount.Name {
			continue
		}
		if v.ConfigMap == nil || v.ConfigMap.Name != configMapName {
			t.Errorf("volume %s is not the ConfigMap %s", v.Name, configMapName)
		}
		if v.ConfigMap != nil && len(v.ConfigMap.Items) != 0 {
			t.Errorf("volume %s remaps keys: the file must be named %s", v.Name, configKey)
		}
		return
	}
	t.Errorf("no volume %s in the pod", mount.Name)
}

func checkHTTP(t *testing.T, c corev1.Container) {
	t.Helper()
	var named string
	for _, p := range c.Ports {
		if p.ContainerPort == httpPort {
			named = p.Name
		}
	}
	if named == "" {
		t.Fatalf("no named containerPort %d", httpPort)
	}
	if addr, _ := envValue(c, "METRICSENDER_HTTP_ADDR"); addr != ":8080" {
		t.Errorf("METRICSENDER_HTTP_ADDR = %q, want \":8080\" (the containerPort)", addr)
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe path = %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if port := p.probe.HTTPGet.Port; port != intstr.FromString(named) && port != intstr.FromInt32(httpPort) {
			t.Errorf("%s probe port = %s, want %s or %d", p.name, port.String(), named, httpPort)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
