// Package clustertest proves that metricsender works against a RabbitMQ
// cluster: a sender given the URIs of all its nodes publishes with
// confirms into a quorum queue, and losing the node it is connected to
// midway loses nothing. It holds only tests (and this comment); they run
// the real metricsender binary.
//
// # What it proves
//
//   - A sender given all three URIs connects to one of them, publishes
//     with confirms into a quorum queue bound to Metrics.* (declared by
//     `receive --queue`, replicated on the three nodes), and the receiver,
//     also given all three URIs, sees every seq.
//   - Stopping the node the sender is connected to midway (`rabbitmqctl
//     stop_app` on it) loses nothing: the sender moves to the next node of
//     its list and logs it; the receiver, on the quorum queue, sees every
//     seq (missing=0; duplicates are allowed: delivery is at-least-once).
//
// # How to run
//
// The tests start three extra RabbitMQ nodes on this machine with
// .ci/rabbitmq-cluster (ports 5681-5683, node names rabbit1..3@HOST) and
// remove them at the end, pass or fail. They never touch the main broker on
// port 5672. Starting nodes needs root (the server drops to the rabbitmq
// user) and loads the machine, so they run only when asked:
//
//	METRICSENDER_CLUSTER_TESTS=1 go test -race -count=1 -p 1 -v ./clustertest/
//
// Without METRICSENDER_CLUSTER_TESTS=1 every test skips and says why. When
// the cluster cannot be started they skip too, unless
// METRICSENDER_REQUIRE_BROKER=1 (set by .ci/run): then they fail.
// Assertions are on counts, never on durations; the time limits only catch
// hangs.
package clustertest
