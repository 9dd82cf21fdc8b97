package kubetest

import (
	"os"
	"testing"
)

// How says how to run the gated tests.
const How = "METRICSENDER_KUBE_TESTS=1 METRICSENDER_KUBE_ASSETS=$(.ci/kube-apiserver) go test -tags kubeapiserver ./feedback/kube/ ./app/"

// Off is the test body when built without -tags kubeapiserver: it skips,
// saying how to run it, or fails when METRICSENDER_KUBE_TESTS=1 asked for
// it (the tag is missing).
func Off(t testing.TB) {
	t.Helper()
	if os.Getenv("METRICSENDER_KUBE_TESTS") == "1" {
		t.Fatal("METRICSENDER_KUBE_TESTS=1 but built without -tags kubeapiserver: run " + How)
	}
	t.Skip("tests against a real kube-apiserver are off; run them with: " + How)
}
