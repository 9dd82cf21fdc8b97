// Package httpserver is the HTTP server every long-running command of
// metricsender starts on --http-addr: /healthz (200 while the process
// runs), /readyz (200 when the command's readiness func says so, with an
// optional note, else 503 with the reason), /metrics (a Prometheus
// registry) and whatever routes the command adds to the same mux (the
// control API). It listens at Start, so a bad or busy address fails
// there, and Shutdown drains requests in progress within its context.
// The command decides the routes and the readiness; this package only
// serves them.
package httpserver
