// Package faulttest proves that metricsender loses nothing and crashes on
// nothing when the broker misbehaves. It holds only tests (and this
// comment): each one runs the real metricsender binary against the real
// RabbitMQ and then cuts or stops the broker under it.
//
// # What it proves
//
//   - Connection cuts: closing the sender's and the receiver's broker
//     connections twice during a `send` -> `receive --queue --check` run
//     loses nothing (missing=0; duplicates are allowed: delivery is
//     at-least-once).
//   - Broker restart: `rabbitmqctl stop_app` for a few seconds, then
//     `start_app`, during a run: the sender keeps its schedule, buffers,
//     publishes the buffer after the reconnect and exits 0; the receiver's
//     durable quorum queue survives, the receiver reconnects by itself, and
//     every tick's messages arrive.
//   - The reconnect race after a restart, forced both ways: each client
//     reaches the broker through a brokertest.Proxy, and the test holds
//     the receiver's reconnect back (the sender finds the exchange without
//     bindings and must retry what the broker returns, within the rebind
//     window) or the sender's (it finds the receiver bound). A restart at
//     the start, the middle and the end of a `send --count` run (at the end
//     the outage covers the last ticks and the natural end waits through
//     it): the receiver's `--check --expect` finds nothing missing, both
//     exit 0 and the sender reports published=all dropped=0 unroutable=0.
//   - Broker down past --connect-timeout at the end of a --count run: the
//     sender exits 1 with one line saying how many it dropped and why, and
//     that count is what the receiver lacks (but for the messages in flight
//     when the broker stopped: one whose confirm was lost may have arrived).
//   - Injected faults through connection cuts: a run with every kind of
//     fault at once, the connections cut twice midway: the receiver's
//     --check --expect still tells injected faults from real loss
//     (missing=0, exit 0) and counts exactly the drops, delays, stale,
//     corrupt and omitted messages preview predicts for the seed.
//   - Broker down at start: the sender retries until the broker is up, then
//     publishes everything; with --connect-timeout it gives up instead, exit
//     1 with one clear line and the password masked.
//   - Stop during an outage: SIGTERM while the broker is down ends the sender
//     with exit 0 within --shutdown-timeout, and it logs what it dropped.
//
// # How to run
//
// The tests stop the broker, which breaks every other client of it, so they
// run only when asked, one package at a time, never next to other broker
// tests:
//
//	METRICSENDER_FAULT_TESTS=1 go test -race -count=1 -p 1 -v ./faulttest/
//
// Without METRICSENDER_FAULT_TESTS=1 every test skips and says why. They
// need RabbitMQ on 127.0.0.1:5672 (guest/guest; AMQP_URI overrides) and its
// rabbitmqctl on PATH, and `go` to build the binary (with -race) once. Every
// test restores the broker when it ends (start_app, await_startup, then an
// AMQP dial loop), pass or fail. Connection cuts close only the connections
// of the processes under test (found with ss), so other clients of the
// broker keep theirs. Assertions are on counts, never on durations; the
// time limits are generous and only catch hangs.
package faulttest
