package deployments_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cases below break a copy of a real file the way a hand edit does and
// show the loaders reject it: each is a mistake the hand-written structs
// and the raw-file decoding let through.

// edit is one change to a copied file: old must occur exactly once.
type edit struct {
	file, old, new string
}

// apply makes the edit in the tree at root, failing the test when old is
// not there exactly once (the real file changed: fix the case).
func (e edit) apply(t *testing.T, root string) {
	t.Helper()
	path := filepath.Join(root, e.file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), e.old); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once", e.file, e.old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), e.old, e.new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyManifests copies the manifests of deployments/ and its testdata/
// (every file but the Go ones) into a temporary directory and returns it.
func copyManifests(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(deploymentsDir, func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, path), 0o755)
		case strings.HasSuffix(path, ".go"):
			return nil
		}
		return copyFile(path, filepath.Join(dst, path))
	})
	if err != nil {
		t.Fatalf("copy manifests: %v", err)
	}
	return dst
}

func TestKustomizeRejects(t *testing.T) {
	tests := []struct {
		name       string
		components []string // rendered in an overlay of the base, as a user does
		edit       edit
		want       string // in the error
	}{
		{
			name:       "a container field typo in the feedback patch",
			components: []string{feedbackDir},
			edit:       edit{"feedback-kubernetes/sender-patch.yaml", "          env:\n", "          evn:\n"},
			want:       `unknown field "spec.template.spec.containers[0].evn"`,
		},
		{
			name:       "the feedback patch names a missing file",
			components: []string{feedbackDir},
			edit:       edit{"feedback-kubernetes/kustomization.yaml", "path: sender-patch.yaml", "path: sender-patch.yml"},
			want:       "failed to get the patch file from path(sender-patch.yml)",
		},
		{
			name:       "the sharded delete patch names a missing Deployment",
			components: []string{shardedDir},
			edit:       edit{"sharded/kustomization.yaml", "        name: metricsender\n", "        name: metricsender-sender\n"},
			want:       "no matches for Id Deployment.v1.apps/metricsender-sender",
		},
		{
			name:       "a ServiceMonitor field typo",
			components: []string{monitoringFixture},
			edit:       edit{monitoringFixture + "/servicemonitor.yaml", "  endpoints:\n", "  endpoint:\n"},
			want:       `unknown field "spec.endpoint"`,
		},
		{
			name:       "an unknown kind",
			components: []string{monitoringFixture},
			edit:       edit{monitoringFixture + "/prometheusrule.yaml", "kind: PrometheusRule\n", "kind: PrometheusRules\n"},
			want:       `no kind "PrometheusRules" is registered`,
		},
		{
			name: "a kustomization field typo in the base",
			edit: edit{"kustomization.yaml", "includeSelectors: true", "includeSelector: true"},
			want: `invalid Kustomization: json: unknown field "includeSelector"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyManifests(t)
			var comps []string
			for _, c := range tt.components {
				comps = append(comps, filepath.Join(root, c))
			}
			if _, err := renderKustomize(t, root, comps...); err != nil {
				t.Fatalf("the unbroken copy does not render: %v", err)
			}
			tt.edit.apply(t, root)
			_, err := renderKustomize(t, root, comps...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("render after %q -> %q: err %v, want an error with %q", tt.edit.old, tt.edit.new, err, tt.want)
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestComposeRejects(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		want string // in the error
	}{
		{
			name: "a depends_on condition typo",
			edit: edit{"docker-compose.yml",
				"        condition: service_healthy\n    restart: unless-stopped\n\n  receiver:\n",
				"        conditon: service_healthy\n    restart: unless-stopped\n\n  receiver:\n"},
			want: "services.sender.depends_on.rabbitmq additional properties 'conditon' not allowed",
		},
		{
			name: "a service key typo",
			edit: edit{"docker-compose.yml", "  sender:\n    build: .\n", "  sender:\n    biuld: .\n"},
			want: "services.sender.biuld",
		},
		{
			name: "a typo in a service of a profile, loaded without it",
			edit: edit{"docker-compose.yml", "    hostname: rabbitmq-2\n", "    hostnme: rabbitmq-2\n"},
			want: "services.rabbitmq-2.hostnme",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "docker-compose.yml")
			if err := copyFile(composeFile, path); err != nil {
				t.Fatal(err)
			}
			if _, err := loadComposeFile(t.Context(), path, nil); err != nil {
				t.Fatalf("the unbroken copy does not load: %v", err)
			}
			tt.edit.apply(t, dir)
			_, err := loadComposeFile(t.Context(), path, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("load after %q -> %q: err %v, want an error with %q", tt.edit.old, tt.edit.new, err, tt.want)
			}
			t.Logf("rejected: %v", err)
		})
	}
}
