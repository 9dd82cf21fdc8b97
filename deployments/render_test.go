package deployments_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The kustomize API the tests render with is the engine `kubectl kustomize`
// and `kubectl apply -k` embed, with its default options (files only from
// inside each root, as kubectl loads them).

// kustomizeRoots returns every directory under root that holds a
// kustomization.yaml, testdata/ left out.
func kustomizeRoots(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "testdata":
			return filepath.SkipDir
		case !d.IsDir() && d.Name() == "kustomization.yaml":
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return dirs
}

// readKustomization parses dir/kustomization.yaml into kustomize's own
// type, as kustomize does: an unknown field is an error.
func readKustomization(t *testing.T, dir string) types.Kustomization {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatalf("read kustomization: %v", err)
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// renderKustomize renders the kustomization in dir and decodes every
// object strictly. With components, dir is the base of an overlay written
// to a temporary directory, outside the base's tree, that lists them in
// that order (deployments/README.md's overlay).
func renderKustomize(t *testing.T, dir string, components ...string) (objects, error) {
	t.Helper()
	root := dir
	if len(components) > 0 {
		root = writeOverlay(t, dir, components)
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), root)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s %v: %w", dir, components, err)
	}
	dec := newStrictDecoder(t)
	var objs objects
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		obj, err := decodeYAMLObject(dec, y)
		if err != nil {
			return nil, fmt.Errorf("rendered %s: %w\n%s", r.CurId(), err, y)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// writeOverlay writes an overlay kustomization with base as its resource
// and components after it, and returns its directory. kustomize takes only
// relative paths to other kustomizations.
func writeOverlay(t *testing.T, base string, components []string) string {
	t.Helper()
	overlay := t.TempDir()
	rel := func(dir string) string {
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		r, err := filepath.Rel(overlay, abs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var comps []string
	for _, c := range components {
		comps = append(comps, rel(c))
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
		"resources: [" + rel(base) + "]\ncomponents: [" + strings.Join(comps, ", ") + "]\n"
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	return overlay
}

// render renders a kustomization of deployments/ (a path relative to it),
// or the base with the components given, failing the test on any error.
func render(t *testing.T, dir string, components ...string) objects {
	t.Helper()
	var paths []string
	for _, c := range components {
		paths = append(paths, filepath.Join(deploymentsDir, c))
	}
	objs, err := renderKustomize(t, filepath.Join(deploymentsDir, dir), paths...)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// renderRoot renders dir as a user applies it: a Kustomization on its own,
// a Component in an overlay of base.
func renderRoot(t *testing.T, base, dir string) (objects, types.Kustomization, error) {
	t.Helper()
	k := readKustomization(t, dir)
	if k.Kind == types.ComponentKind {
		objs, err := renderKustomize(t, base, dir)
		return objs, k, err
	}
	objs, err := renderKustomize(t, dir)
	return objs, k, err
}
