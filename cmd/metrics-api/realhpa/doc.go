// Package realhpa holds the tests against the real HorizontalPodAutoscaler
// controller (issue 24): a test cluster of real processes
// (internal/kubetest.StartCluster: etcd, kube-apiserver with the
// aggregation layer, kube-controller-manager), the metrics API bridge
// (metricsender-metrics-api, this module's program) registered through
// APIServices, and metricsender publishing on the real RabbitMQ.
//
//   - TestEndToEnd: send --feedback kubernetes with a load that steps up
//     and down; the Deployment's replicas follow the HPA's formula, and
//     the judge reports the HPA's reactions in its summary line, its
//     report and /metrics alike.
//   - TestDifferential: a table of scenarios run at once in one cluster;
//     the real controller and the stand-in (preview --operator hpa on the
//     same config) make the same replica decisions, in the same order,
//     each within one sync period plus one tick (plus 2 s of slack for a
//     loaded machine, the project's rule for timing in tests).
//
// They build only with -tags kubeapiserver and run with
// METRICSENDER_KUBE_TESTS=1 and METRICSENDER_KUBE_ASSETS naming what
// .ci/kube-cluster builds (see internal/kubetest); otherwise they skip,
// saying how, or fail under METRICSENDER_REQUIRE_BROKER=1.
package realhpa
