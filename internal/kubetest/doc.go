// Package kubetest starts a real kube-apiserver and etcd for tests,
// through controller-runtime's envtest, gated like the fault tests:
// METRICSENDER_KUBE_TESTS=1 turns them on and METRICSENDER_KUBE_ASSETS
// names the directory holding both binaries (.ci/kube-apiserver builds it
// and prints it). Without the gate a test skips; with the gate but no
// binaries it skips too, loudly, or fails when METRICSENDER_REQUIRE_BROKER=1
// (CI) asks for every integration test.
//
// The tests and kubetest.go build only with -tags
// kubeapiserver: envtest and the clientset those tests use compile every
// Kubernetes API group, most of a fresh `go test ./...` (issue 21). Without
// the tag, Off stands in for each test under the same name.
package kubetest
