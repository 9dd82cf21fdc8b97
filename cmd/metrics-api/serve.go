package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"

	"github.com/labsea/metricsender/latest"
	"github.com/labsea/metricsender/transport"
)

// progressEvery is how often the bridge logs what it holds, when that
// changed.
const progressEvery = time.Minute

// serve runs the bridge until ctx ends (nil) or the bus fails for good.
func serve(ctx context.Context, o *options, logger *slog.Logger) error {
	store, err := latest.New(latest.Config{MaxAge: o.maxAge, Run: o.run})
	if err != nil {
		return &usageError{err}
	}
	handler := latest.NewHandler(store, logger)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.listen, err)
	}
	server, err := newServer(o.server, ln, store)
	if err != nil {
		_ = ln.Close()
		return err
	}
	addr := ln.Addr().String()
	var busReady atomic.Pointer[func() error]
	err = errors.Join(
		server.GenericAPIServer.AddReadyzChecks(healthz.NamedCheck("bus", func(*http.Request) error {
			if ready := busReady.Load(); ready != nil {
				return (*ready)()
			}
			return errors.New("connecting to the broker")
		})),
		server.GenericAPIServer.AddPostStartHook("metricsender-serving", func(genericapiserver.PostStartHookContext) error {
			logger.Info("serving on "+addr, "addr", addr, "apis", "external.metrics.k8s.io/v1beta1,custom.metrics.k8s.io/v1beta1")
			return nil
		}))
	if err != nil {
		return fmt.Errorf("API server hooks: %w", err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	logger.Info("starting", "transport", o.transport, "uri", transport.RedactURI(o.uri), "exchange", o.exchange,
		"topics", o.topics, "max_age", maxAgeText(o.maxAge), "config", configPath(o))
	busDone := make(chan struct{})
	go func() {
		defer close(busDone)
		if err := consume(ctx, o, handler, &busReady, logger); err != nil {
			cancel(err)
		}
	}()
	go logProgress(ctx, store, handler, logger)
	runErr := server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
	cancel(nil)
	<-busDone
	c := handler.Counts()
	st := store.Stats()
	logger.Info("stopped", "apps", st.Apps, "values", st.Values, "received", c.Received, "decode_errors", c.DecodeErrors)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if runErr != nil {
		return fmt.Errorf("API server: %w", runErr)
	}
	return nil
}

// consume connects to the broker (retrying as the transport does) and
// feeds handler until ctx ends. An error means the bus is lost for good
// (wrong credentials, --connect-timeout passed).
func consume(ctx context.Context, o *options, handler *latest.Handler, ready *atomic.Pointer[func() error], logger *slog.Logger) error {
	connect := o.connect
	if connect == nil {
		connect = func(ctx context.Context, logger *slog.Logger) (transport.Pair, error) {
			return transport.New(ctx, o.transport, transport.Options{
				URI: o.uri, Exchange: o.exchange, TLS: o.tls, ConnectTimeout: o.connectTimeout,
				Topics: o.topics, ReceiveOnly: true,
			}, logger)
		}
	}
	pair, err := connect(ctx, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect to the broker: %w", err)
	}
	defer pair.Close()
	ready.Store(&pair.Ready)
	msgs, err := pair.Subscriber.Subscribe(ctx, o.topics[0])
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	logger.Info("consuming", "topics", o.topics)
	handler.Consume(msgs) // until ctx ends and the channel closes
	return nil
}

// logProgress logs what the bridge holds every progressEvery while it
// changes.
func logProgress(ctx context.Context, store *latest.Store, handler *latest.Handler, logger *slog.Logger) {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	var last latest.Counts
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c := handler.Counts()
		if c == last {
			continue
		}
		last = c
		st := store.Stats()
		logger.Info("progress", "apps", st.Apps, "values", st.Values, "metrics", st.Metrics,
			"received", c.Received, "decode_errors", c.DecodeErrors, "not_numbers", c.NotNumbers)
	}
}

func maxAgeText(d time.Duration) string {
	if d == 0 {
		return "3x each app's interval"
	}
	return d.String()
}

func configPath(o *options) string {
	if o.run == nil {
		return ""
	}
	return o.run.Path
}
