package kubetest

import (
	"os"
	"testing"
)

// How says how to run the gated tests against kube-apiserver alone.
const How = "METRICSENDER_KUBE_TESTS=1 METRICSENDER_KUBE_ASSETS=$(.ci/kube-apiserver) go test -tags kubeapiserver ./feedback/kube/ ./app/"

// HowCluster says how to run the gated tests against the test cluster
// (StartCluster: kube-apiserver with the aggregation layer and
// kube-controller-manager).
const HowCluster = "export METRICSENDER_KUBE_TESTS=1 METRICSENDER_KUBE_ASSETS=$(.ci/kube-cluster); go test -tags kubeapiserver ./internal/kubetest/; go test -C cmd/metrics-api -tags kubeapiserver ./realhpa/"

// Off is the test body when built without -tags kubeapiserver: it skips,
// saying how to run it, or fails when METRICSENDER_KUBE_TESTS=1 asked for
// it (the tag is missing).
func Off(t testing.TB) {
	t.Helper()
	off(t, How)
}

// OffCluster is Off for the tests that start the test cluster.
func OffCluster(t testing.TB) {
	t.Helper()
	off(t, HowCluster)
}

func off(t testing.TB, how string) {
	t.Helper()
	if os.Getenv("METRICSENDER_KUBE_TESTS") == "1" {
		t.Fatal("METRICSENDER_KUBE_TESTS=1 but built without -tags kubeapiserver: run " + how)
	}
	t.Skip("tests against a real kube-apiserver are off; run them with: " + how)
}
