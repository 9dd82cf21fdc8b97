//go:build kubeapiserver

package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Assets returns the directory holding kube-apiserver and etcd, or skips
// (or fails) t as the package doc says.
func Assets(t testing.TB) string {
	t.Helper()
	return assets(t, How, "kube-apiserver", "etcd")
}

// assets returns METRICSENDER_KUBE_ASSETS when it holds every one of bins,
// or skips (or fails) t naming how to build them.
func assets(t testing.TB, how string, bins ...string) string {
	t.Helper()
	if os.Getenv("METRICSENDER_KUBE_TESTS") != "1" {
		t.Skip("tests against a real kube-apiserver are off; run them with: " + how)
	}
	dir := os.Getenv("METRICSENDER_KUBE_ASSETS")
	var missing []string
	for _, bin := range bins {
		if fi, err := os.Stat(filepath.Join(dir, bin)); dir == "" || err != nil || fi.Mode()&0o111 == 0 {
			missing = append(missing, bin)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("METRICSENDER_KUBE_ASSETS=%q lacks %s (build them: %s)", dir, strings.Join(missing, " and "), how)
		if os.Getenv("METRICSENDER_REQUIRE_BROKER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// Start starts kube-apiserver and etcd for t (stopped at its end) and
// returns the environment and an admin's client config. No controller
// runs: a test sets status fields itself.
func Start(t testing.TB) (*envtest.Environment, *rest.Config) {
	t.Helper()
	env := &envtest.Environment{BinaryAssetsDirectory: Assets(t)}
	admin, err := env.Start()
	if err != nil {
		t.Fatalf("start kube-apiserver and etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop kube-apiserver and etcd: %v", err)
		}
	})
	return env, admin
}
