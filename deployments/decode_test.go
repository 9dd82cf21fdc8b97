package deployments_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// repoRoot is the module root, seen from this package's directory (go test
// runs each package in its own directory).
const repoRoot = ".."

// deploymentsDir is the manifests tree, seen from the test's working directory.
const deploymentsDir = "."

// kustomization is the part of kustomize's Kustomization these manifests use.
// Decoding is strict, so a field outside it fails the test: widen the struct
// knowingly when a kustomization starts using more.
type kustomization struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Namespace  string `yaml:"namespace"`
	Labels     []struct {
		Pairs            map[string]string `yaml:"pairs"`
		IncludeSelectors bool              `yaml:"includeSelectors"`
		IncludeTemplates bool              `yaml:"includeTemplates"`
	} `yaml:"labels"`
	Resources  []string         `yaml:"resources"`
	Components []string         `yaml:"components"`
	Patches    []kustomizePatch `yaml:"patches"`
}

// kustomizePatch is one entry of a kustomization's patches: inline (Patch,
// sharded/) or a file (Path, feedback-kubernetes/) patching the objects its
// target selects.
type kustomizePatch struct {
	Patch  string `yaml:"patch"`
	Path   string `yaml:"path"`
	Target struct {
		Kind string `yaml:"kind"`
		Name string `yaml:"name"`
	} `yaml:"target"`
}

// newStrictDecoder decodes YAML into the typed core/v1, apps/v1, policy/v1 and rbac/v1 objects the
// way the API server's strict field validation does: an unknown or duplicate
// field, or a kind outside those groups, is an error.
func newStrictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatalf("register kubernetes types: %v", err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// decodeObject decodes one Kubernetes object from a YAML file strictly.
func decodeObject(t *testing.T, dec runtime.Decoder, path string) runtime.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	obj, err := decodeYAMLObject(dec, data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

func decodeYAMLObject(dec runtime.Decoder, data []byte) (runtime.Object, error) {
	if bytes.Contains(data, []byte("\n---")) {
		return nil, errors.New("one object per file, please (found a --- separator)")
	}
	if obj, ok, err := decodeCustomResource(data); ok {
		return obj, err
	}
	obj, _, err := dec.Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("strict decode: %w", err)
	}
	return obj, nil
}

// splitYAMLDocuments splits a multi-document stream (kustomize's output).
func splitYAMLDocuments(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	d := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		err := d.Decode(&node)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("split yaml stream: %v", err)
		}
		out, err := yaml.Marshal(&node)
		if err != nil {
			t.Fatalf("re-encode yaml document: %v", err)
		}
		docs = append(docs, out)
	}
}

// decodeStrictYAML decodes a plain YAML file into v, failing on unknown keys.
func decodeStrictYAML(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	d := yaml.NewDecoder(f)
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: strict decode: %v", path, err)
	}
}

// kustomizationDirs returns every directory under deployments/ that holds
// YAML, relative to deploymentsDir.
func kustomizationDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(deploymentsDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isYAML(path) {
			dir := filepath.Dir(path)
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk deployments: %v", err)
	}
	return dirs
}

func isYAML(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

// manifests is every Kubernetes object of the tree, decoded strictly, keyed by
// its path relative to deploymentsDir.
type manifests map[string]runtime.Object

func loadManifests(t *testing.T) manifests {
	t.Helper()
	dec := newStrictDecoder(t)
	m := manifests{}
	for _, dir := range kustomizationDirs(t) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("read dir: %v", err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			if e.IsDir() || !isYAML(path) || e.Name() == "kustomization.yaml" {
				continue
			}
			m[path] = decodeObject(t, dec, path)
		}
	}
	return m
}

// deployment returns the Deployment in file path, failing if it is not one.
func (m manifests) deployment(t *testing.T, path string) *appsv1.Deployment {
	t.Helper()
	d, ok := m[path].(*appsv1.Deployment)
	if !ok {
		t.Fatalf("%s: want a Deployment, got %T", path, m[path])
	}
	return d
}

func (m manifests) service(t *testing.T, path string) *corev1.Service {
	t.Helper()
	s, ok := m[path].(*corev1.Service)
	if !ok {
		t.Fatalf("%s: want a Service, got %T", path, m[path])
	}
	return s
}

func (m manifests) secret(t *testing.T, path string) *corev1.Secret {
	t.Helper()
	s, ok := m[path].(*corev1.Secret)
	if !ok {
		t.Fatalf("%s: want a Secret, got %T", path, m[path])
	}
	return s
}

func (m manifests) configMap(t *testing.T, path string) *corev1.ConfigMap {
	t.Helper()
	c, ok := m[path].(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("%s: want a ConfigMap, got %T", path, m[path])
	}
	return c
}

// container returns the named container of a pod template.
func container(t *testing.T, d *appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("deployment %s: no container %q", d.Name, name)
	return corev1.Container{}
}

// envNames lists the names of a container's env entries.
func envNames(c corev1.Container) []string {
	names := make([]string, 0, len(c.Env))
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	return names
}

// envValue returns a literal env value of a container.
func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}
