// Package promtest holds the helpers that tests of more than one package
// (telemetry, control, app) use to look at a sender from outside: fetch
// and parse /metrics, find a series, gather one gauge, the zero-valued
// series a fresh sender must show for a config (KnownConfig, OwnedOf), a
// request of the HTTP API (Do), and a schedule's next values as text
// (NextValues).
//
// It exists so those helpers are written once rather than copied into each
// package's tests. It imports generator and the Prometheus client only:
// the in-package tests of telemetry, control and app import it, so it must
// import none of them.
//
// Every helper that can fail takes the test, marks itself t.Helper and
// fails the test on error, so callers need no error handling.
package promtest
