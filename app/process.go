package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

// startHTTP starts the health, readiness and metrics server on addr, and
// registers metricsender_ready (ready's verdict) with reg; an empty addr
// turns it off (nil server, nil error, extra never called, no gauge).
func startHTTP(addr string, reg *prometheus.Registry, ready func() error, extra func(*http.ServeMux), logger *slog.Logger) (*httpserver.Server, error) {
	if addr == "" {
		return nil, nil
	}
	registerReady(reg, ready)
	srv := httpserver.New(addr, reg, ready, extra, logger)
	if err := srv.Start(); err != nil {
		return nil, &usageError{err}
	}
	return srv, nil
}

// shutdownHTTP stops srv (nil is fine), giving requests in progress up to timeout.
func shutdownHTTP(srv *httpserver.Server, timeout time.Duration, logger *slog.Logger) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("http server shutdown", "error", err.Error())
	}
}

// newRegistry is the registry a command serves on /metrics: the Go
// runtime's and the process's collectors, then the command's own.
func newRegistry() *prometheus.Registry { return telemetry.NewRegistry() }

// registerReady exports metricsender_ready from /readyz's own verdict (a
// nil ready is always ready).
func registerReady(reg prometheus.Registerer, ready func() error) {
	telemetry.RegisterReady(reg, func() bool { return ready == nil || httpserver.IsReady(ready()) })
}

// laterReady is /readyz's answer for a process whose broker pair comes
// later: "connecting to the broker" until set. Safe for concurrent use.
type laterReady struct{ p atomic.Pointer[func() error] }

// set makes ready the answer from now on.
func (l *laterReady) set(ready *func() error) { l.p.Store(ready) }

// ready is the current answer.
func (l *laterReady) ready() error {
	if ready := l.p.Load(); ready != nil {
		return (*ready)()
	}
	return errors.New("connecting to the broker")
}

// connectPair connects to conn's broker: conn gives the transport, URI,
// exchange, TLS and connect timeout, o what the command adds (topics,
// queue, confirms). send, receive and operator connect through it.
func connectPair(ctx context.Context, conn connection, o transport.Options, logger *slog.Logger) (transport.Pair, error) {
	o.URI, o.Exchange, o.TLS, o.ConnectTimeout = conn.uri, conn.exchange, conn.tls, conn.timeout
	pair, err := transport.New(ctx, conn.transport, o, logger)
	if err != nil {
		return transport.Pair{}, fmt.Errorf("connect: %w", err)
	}
	return pair, nil
}
