package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/control"
	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/httpserver"
	"github.com/labsea/metricsender/internal/throttle"
	"github.com/labsea/metricsender/internal/wmlog"
	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/receiver"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

// sendRun is one run of send: what a phase of runSend builds and a later
// one uses.
type sendRun struct {
	opts        sendOptions
	logger      *slog.Logger
	run         string // the run id
	deployments int    // this shard's
	reg         *prometheus.Registry
	metrics     *sendMetrics
	later       control.Late // the control API answers 503 until the schedule exists
	live        *live.Hub    // the live page, fed from the schedule once it exists

	// /readyz's parts, each set when it comes up.
	pairReady, busReady, kubeReady atomic.Pointer[func() error]

	pair       transport.Pair
	source     *codec.Source
	router     *message.Router
	routerDone chan error

	kubeSrc *kube.Source // nil without --feedback kubernetes
	kubeRec kube.Held    // the kubernetes source's first list, until the schedule exists

	start    time.Time
	exprWarn *throttle.Warning
	sched    *generator.Schedule
	inj      *generator.Injector
	running  runningSchedule
}

// errStopped: a signal came before the first tick; the phase that saw it
// logged it, and the run ends without an error.
var errStopped = errors.New("stopped before the first tick")

// newSendRun picks the seed (when neither flag nor file gave one) and the
// run id, and logs the start.
func newSendRun(opts sendOptions, logger *slog.Logger) *sendRun {
	warnPasswordInFile(logger, opts.cfg)
	if !opts.seedSet {
		opts.seed = generator.RandomSeed()
	}
	run := generator.NewRunID()
	logger = logger.With("run", run)
	deployments := opts.shard.Owned(opts.cfg)
	if opts.shard.Sharded() {
		logger = logger.With("shard", opts.shard.String())
		logger.Info("sharded: sending this shard's deployments only",
			"deployments", deployments, "of", len(opts.cfg.Deployments))
	}
	logger.Info("starting",
		"config", opts.cfg.Path, "deployments", deployments, "seed", opts.seed,
		"transport", opts.conn.transport, "uri", transport.RedactURI(opts.conn.uri), "confirm", opts.confirm)
	return &sendRun{opts: opts, logger: logger, run: run, deployments: deployments}
}

// serve brings up health, metrics and the control API first: /readyz says
// why we are not ready while the broker is still being dialled. The
// server is nil without --http-addr.
func (r *sendRun) serve() (*httpserver.Server, error) {
	opts, logger, deployments := r.opts, r.logger, r.deployments
	reg := newRegistry()
	perApp := deployments <= opts.appMetricsLimit
	if !perApp {
		logger.Info("per-deployment metrics off: the config has more deployments than --app-metrics-limit; published and unroutable are totals, last_value is not exported",
			"deployments", deployments, "limit", opts.appMetricsLimit)
	}
	metrics := newSendMetrics(reg, perApp)
	metrics.Configured(opts.cfg, opts.shard)
	telemetry.RegisterShardInfo(reg, opts.shard)
	r.reg, r.metrics = reg, metrics
	hub, err := live.New(live.Config{Info: live.Info{Run: r.run, Seed: opts.seed, Shard: opts.shard, Interval: cmp.Or(opts.interval, opts.cfg.Interval),
		Deployments: deployments, Control: opts.enableControl}, Readings: metrics}, logger)
	if r.live = hub; err != nil {
		return nil, err
	}
	srv, err := startHTTP(opts.httpAddr, reg, r.ready, httpserver.Routes(control.Routes(&r.later, control.Access{Mutations: opts.enableControl,
		StateFeedback: opts.feedback.api}, filepath.Dir(opts.cfg.Path)), hub.Routes), logger)
	srv.OnShutdown(hub.Close) // the page's streams end with the run
	return srv, err
}

// ready is /readyz's answer: the broker, then each feedback source.
func (r *sendRun) ready() error {
	ready := r.pairReady.Load()
	if ready == nil {
		return errors.New("connecting to the broker")
	}
	if err := (*ready)(); err != nil {
		return err
	}
	if r.opts.feedback.bus {
		if ready := r.busReady.Load(); ready == nil {
			return fmt.Errorf("feedback: not subscribed to %s yet", r.opts.feedback.topic)
		} else if err := (*ready)(); err != nil {
			return err
		}
	}
	if r.opts.feedback.kube != nil {
		if ready := r.kubeReady.Load(); ready == nil {
			return errors.New("feedback kubernetes: not started yet")
		} else if err := (*ready)(); err != nil {
			return err
		}
	}
	return nil
}

// connect dials the transport and starts the router that takes the
// schedule's events to the publisher (errStopped when a signal comes
// first). It sets r.pair as soon as there is one, also when starting the
// router fails after it: the caller closes the pair. finish, or stop when
// a later phase fails, closes the router.
func (r *sendRun) connect(ctx context.Context, stdout io.Writer) error {
	opts, logger := r.opts, r.logger
	// No Options.Topics: each Subscribe binds its own topic (the gochannel
	// demo's receiver Metrics.*, the bus feedback its pattern), and only
	// the feedback subscribes over a broker.
	pair, err := connectPair(ctx, opts.conn, transport.Options{
		Confirm:      opts.confirm,
		Buffer:       opts.buffer,
		RebindWindow: rebindOption(opts.rebindWindow),
		Hooks:        r.metrics,
	}, logger)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("stopped before the broker answered")
			return errStopped
		}
		return err
	}
	r.pair = pair
	r.pairReady.Store(readyWithNode(pair))

	r.source = codec.NewSource(0)
	router, err := newSendRouter(opts, pair, r.source, stdout, logger)
	if err != nil {
		return err
	}
	r.router, r.routerDone = router, make(chan error, 1)
	go func() { r.routerDone <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
	case err := <-r.routerDone:
		r.router = nil // it has stopped already
		r.source.Close()
		return fmt.Errorf("start router: %w", err)
	}
	return nil
}

// stop closes the source and then the router, waits for the router to
// return, and reports the router's Close error. finish calls it at the end
// of a run, and runSend's defer when a phase after connect fails; only the
// first call does anything.
func (r *sendRun) stop() error {
	if r.router == nil {
		return nil
	}
	router := r.router
	r.router = nil
	r.source.Close()
	err := router.Close()
	<-r.routerDone
	return err
}

// rebindOption maps --rebind-window to transport.Options, where 0 means
// the default: --rebind-window 0 turns the retry off.
func rebindOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// newSendRouter is codec's publish path to the pair's publisher and, for
// the in-process transport, a receive handler that prints what arrives.
func newSendRouter(opts sendOptions, pair transport.Pair, source *codec.Source, stdout io.Writer, logger *slog.Logger) (*message.Router, error) {
	router, err := codec.NewRouter(source, pair.Publisher, opts.shutdownTimeout, wmlog.Quiet(logger))
	if err != nil {
		return nil, err
	}
	if opts.conn.transport == "gochannel" {
		// The in-process demo: print what the subscriber receives.
		rcv := receiver.New(receiver.Config{Output: opts.output}, stdout, logger)
		router.AddConsumerHandler("receive", codec.TopicPrefix+"*", pair.Subscriber, rcv.Handle)
	}
	return router, nil
}
