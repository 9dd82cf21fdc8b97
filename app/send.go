package app

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/control"
	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/delay"
	"github.com/labsea/metricsender/internal/throttle"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

func sendCommand() *cli.Command {
	flags := []cli.Flag{configFlag()}
	flags = append(flags, brokerFlags()...)
	flags = append(flags,
		intervalFlag(),
		shardFlag(),
		shardsFlag(),
		&cli.IntFlag{Name: "count", EnvVars: env("count"),
			Usage: "stop after N ticks per deployment (each deployment sends N messages); 0 runs until stopped"},
		seedFlag(),
		&cli.BoolFlag{Name: "confirm", Value: true, EnvVars: env("confirm"),
			Usage: "wait for broker publisher confirms (--confirm=false turns them off)"},
		&cli.StringFlag{Name: "output", Value: "text", EnvVars: env("output"),
			Usage: "with --transport gochannel, how received messages print: text or json"},
		httpAddrFlag(":8080"),
		&cli.IntFlag{Name: "buffer", Value: 100000, EnvVars: env("buffer"),
			Usage: "messages kept (oldest dropped, counted) while the broker is unreachable"},
		&cli.BoolFlag{Name: "enable-control", EnvVars: env("enable-control"),
			Usage: "allow the control API's PUT/DELETE/POST routes (overrides, pause, faults, and with --feedback api the state PUT) on --http-addr"},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: 10 * time.Second, EnvVars: env("shutdown-timeout"),
			Usage: "on SIGINT/SIGTERM, how long in-flight and buffered messages may take to be confirmed (the natural end of a --count run waits for all of them, bounded only by --connect-timeout)"},
		&cli.DurationFlag{Name: "rebind-window", Value: transport.DefaultAMQPConfig("").RebindWindow, EnvVars: env("rebind-window"),
			Usage: "for this long after each reconnect, messages the broker returns as unroutable are retried with backoff, since receivers bind again only after they reconnect (amqp with --confirm; 0 turns it off)"},
		appMetricsLimitFlag("export /metrics series per deployment (published, unroutable, last_value) only when the config has at most this many deployments; above, published and unroutable are totals and last_value is off (decided at start)"),
	)
	flags = append(flags, feedbackFlags()...)
	flags = append(flags, judgeFlags()...)
	flags = append(flags, logFlags()...)
	return &cli.Command{
		Name:         "send",
		Usage:        "publish one message per deployment per tick on Metrics.{name}",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			opts, err := sendOptionsFrom(c)
			if err != nil {
				return err
			}
			logger, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return runSend(c.Context, opts, c.App.Writer, c.App.ErrWriter, logger)
		},
	}
}

// sendOptions is everything send needs, resolved from flags, env and the config.
type sendOptions struct {
	cfg             *generator.Config
	conn            connection
	interval        time.Duration // 0: the config's
	count           int
	seed            int64
	seedSet         bool
	confirm         bool
	output          string
	shutdownTimeout time.Duration
	rebindWindow    time.Duration
	httpAddr        string
	enableControl   bool
	feedback        feedbackOptions
	judge           judgeOptions
	buffer          int
	appMetricsLimit int
	shard           generator.Shard
}

func sendOptionsFrom(c *cli.Context) (sendOptions, error) {
	if c.NArg() > 0 {
		return sendOptions{}, usagef("send takes no arguments, got %q", c.Args().Slice())
	}
	if err := checkOutput(c); err != nil {
		return sendOptions{}, err
	}
	if c.IsSet("interval") && c.Duration("interval") <= 0 {
		return sendOptions{}, usagef("--interval %s: must be > 0", c.Duration("interval"))
	}
	if c.Int("count") < 0 {
		return sendOptions{}, usagef("--count %d: must be >= 0", c.Int("count"))
	}
	if c.Int("buffer") < 1 {
		return sendOptions{}, usagef("--buffer %d: must be >= 1", c.Int("buffer"))
	}
	if c.Duration("shutdown-timeout") <= 0 {
		return sendOptions{}, usagef("--shutdown-timeout %s: must be > 0", c.Duration("shutdown-timeout"))
	}
	if c.Duration("rebind-window") < 0 {
		return sendOptions{}, usagef("--rebind-window %s: must be >= 0", c.Duration("rebind-window"))
	}
	appMetricsLimit, err := appMetricsLimitOf(c)
	if err != nil {
		return sendOptions{}, err
	}
	shard, err := shardOf(c)
	if err != nil {
		return sendOptions{}, err
	}
	fb, err := feedbackOptionsFrom(c)
	if err != nil {
		return sendOptions{}, err
	}
	judge, err := judgeOptionsFrom(c, fb)
	if err != nil {
		return sendOptions{}, err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return sendOptions{}, err
	}
	conn, err := resolveConnection(c, cfg)
	if err != nil {
		return sendOptions{}, err
	}
	opts := sendOptions{
		cfg:             cfg,
		conn:            conn,
		interval:        c.Duration("interval"),
		count:           c.Int("count"),
		confirm:         c.Bool("confirm"),
		output:          c.String("output"),
		shutdownTimeout: c.Duration("shutdown-timeout"),
		rebindWindow:    c.Duration("rebind-window"),
		httpAddr:        c.String("http-addr"),
		enableControl:   c.Bool("enable-control"),
		feedback:        fb,
		judge:           judge,
		buffer:          c.Int("buffer"),
		appMetricsLimit: appMetricsLimit,
		shard:           shard,
	}
	opts.seed, opts.seedSet = seedOf(c, cfg)
	return opts, nil
}

// runSend runs the schedule until --count is reached or ctx is cancelled
// (a signal). The natural end of a --count run waits until the publisher
// settled every message (bounded only by --connect-timeout during an
// outage); a signal gives that --shutdown-timeout. Either way the stopped
// line reports published, dropped and unroutable messages. A --count run
// that dropped any returns an error saying how many and why (exit 1); a
// run ended by a signal logs the same words and returns nil.
func runSend(ctx context.Context, opts sendOptions, stdout, stderr io.Writer, logger *slog.Logger) error {
	// SIGHUP means "reload" (watchConfig takes it over once running); until
	// then it must not end the process, as its default action would.
	signal.Ignore(syscall.SIGHUP)
	warnPasswordInFile(logger, opts.cfg)
	if !opts.seedSet {
		opts.seed = randomSeed()
	}
	run := newRunID()
	logger = logger.With("run", run)
	deployments := shardDeployments(opts.cfg, opts.shard)
	if opts.shard.Sharded() {
		logger = logger.With("shard", opts.shard.String())
		logger.Info("sharded: sending this shard's deployments only",
			"deployments", deployments, "of", len(opts.cfg.Deployments))
	}
	logger.Info("starting",
		"config", opts.cfg.Path, "deployments", deployments, "seed", opts.seed,
		"transport", opts.conn.transport, "uri", transport.RedactURI(opts.conn.uri), "confirm", opts.confirm)

	// Health and metrics come up first: /readyz says why we are not ready
	// while the broker is still being dialled.
	reg := newRegistry()
	perApp := deployments <= opts.appMetricsLimit
	if !perApp {
		logger.Info("per-deployment metrics off: the config has more deployments than --app-metrics-limit; published and unroutable are totals, last_value is not exported",
			"deployments", deployments, "limit", opts.appMetricsLimit)
	}
	metrics := newSendMetrics(reg, perApp)
	metrics.Configured(opts.cfg, opts.shard)
	telemetry.RegisterShardInfo(reg, opts.shard)
	var pairReady, busReady, kubeReady atomic.Pointer[func() error]
	var later control.Late // the control API answers 503 until the schedule exists
	srv, err := startHTTP(opts.httpAddr, reg, func() error {
		ready := pairReady.Load()
		if ready == nil {
			return errors.New("connecting to the broker")
		}
		if err := (*ready)(); err != nil {
			return err
		}
		if opts.feedback.bus {
			if ready := busReady.Load(); ready == nil {
				return fmt.Errorf("feedback: not subscribed to %s yet", opts.feedback.topic)
			} else if err := (*ready)(); err != nil {
				return err
			}
		}
		if opts.feedback.kube != nil {
			if ready := kubeReady.Load(); ready == nil {
				return errors.New("feedback kubernetes: not started yet")
			} else if err := (*ready)(); err != nil {
				return err
			}
		}
		return nil
	}, control.Routes(&later, control.Access{Mutations: opts.enableControl, StateFeedback: opts.feedback.api},
		filepath.Dir(opts.cfg.Path)), logger)
	if err != nil {
		return err
	}
	defer shutdownHTTP(srv, opts.shutdownTimeout, logger)

	// No Options.Topics: each Subscribe binds its own topic (the gochannel
	// demo's receiver Metrics.*, the bus feedback its pattern), and only
	// the feedback subscribes over a broker.
	pair, err := transport.New(ctx, opts.conn.transport, transport.Options{
		URI:            opts.conn.uri,
		Exchange:       opts.conn.exchange,
		Confirm:        opts.confirm,
		TLS:            opts.conn.tls,
		ConnectTimeout: opts.conn.timeout,
		Buffer:         opts.buffer,
		RebindWindow:   rebindOption(opts.rebindWindow),
		Hooks:          metrics,
	}, logger)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("stopped before the broker answered")
			return nil
		}
		return fmt.Errorf("connect: %w", err)
	}
	defer pair.Close()
	pairReady.Store(readyWithNode(pair))

	source := codec.NewSource(0)
	router, err := newSendRouter(opts, pair, source, stdout, logger)
	if err != nil {
		return err
	}
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("start router: %w", err)
	}

	// The kubernetes source's first list comes before the schedule's
	// start, so the first tick already reflects the cluster and a slow
	// list does not make ticks to catch up.
	var kubeSrc *kube.Source
	kubeRec := &heldRecorder{}
	if opts.feedback.kube != nil {
		kubeCtx, stopKube := context.WithCancel(ctx)
		src, waitKube, err := startKube(kubeCtx, *opts.feedback.kube, ownDeployments(opts.cfg, opts.shard), kubeRec, opts.conn.timeout, logger)
		if err != nil {
			stopKube()
			return fmt.Errorf("feedback kubernetes: %w", err)
		}
		defer func() { stopKube(); waitKube() }()
		ready := src.Ready
		kubeReady.Store(&ready)
		kubeSrc = src
		if ctx.Err() != nil {
			logger.Info("stopped before the first tick")
			return nil
		}
	}
	start := time.Now()
	exprWarn := throttle.New(logger, throttle.Config{
		Message: "expression failed: the metric sent its previous value", CountKey: "errors", KeysKey: "metrics"})
	defer exprWarn.Flush()
	sched, err := generator.NewSchedule(opts.cfg, generator.ScheduleOptions{
		Start:    start,
		Run:      run,
		Seed:     opts.seed,
		Shard:    opts.shard,
		Interval: opts.interval,
		Count:    opts.count,
		// A tick is made part by part as the publisher takes it, so 150,000
		// deployments' events are never in memory at once.
		MaxBatch: codec.EventsInFlight,
		OnModelError: func(app, metric string, err error) {
			metrics.ExprError()
			exprWarn.Warn(app+"."+metric, "app", app, "metric", metric, "error", err)
		},
	})
	if err != nil {
		return &usageError{fmt.Errorf("schedule: %w", err)}
	}
	telemetry.RegisterTickInterval(reg, sched.MinInterval)
	inj := generator.NewInjector(opts.cfg, opts.seed, opts.count)
	telemetry.RegisterFaults(reg, inj)
	faultLog := newFaultLog(inj, logger)
	running := runningSchedule{Schedule: sched, inj: inj}
	if opts.feedback.bus || opts.feedback.api || opts.feedback.kube != nil {
		if err := running.addJudge(opts, reg, metrics); err != nil {
			return err
		}
	}
	later.Set(running)
	later.SetInjector(inj)
	if opts.feedback.bus {
		bus, err := feedback.NewBus(feedback.BusConfig{
			Subscriber: pair.Subscriber,
			Topic:      opts.feedback.topic,
			Recorder:   running.recorder(),
			Counter:    telemetry.NewFeedback(reg),
		}, logger)
		if err != nil {
			return &usageError{err}
		}
		busCtx, stopBus := context.WithCancel(ctx)
		waitBus := runBus(busCtx, bus, logger)
		defer func() { stopBus(); waitBus() }()
		ready := bus.Ready
		busReady.Store(&ready)
	}
	var reloadInto applier = running
	if kubeSrc != nil {
		kubeRec.set(running.recorder(), logger)
		reloadInto = kubeApplier{applier: running, src: kubeSrc, shard: opts.shard}
	}
	metrics.WatchState(sched.ObservedStates)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watchConfig(watchCtx, opts.cfg.Path, logger, newReloader(opts.cfg.Path, opts.cfg, reloadInto, metrics, logger).Reload)
	}()
	defer func() { stopWatch(); <-watchDone }()

	// Delayed messages go out on their own clock; a signal sends what is
	// held with the buffer flush, so they must outlive ctx.
	delays := delay.New(func(ctx context.Context, events []generator.Event) error {
		sentAt := time.Now() // a delayed message's request opens when it goes out
		if err := source.Emit(ctx, events); err != nil {
			return err
		}
		running.sentOnWire(events, sentAt)
		return nil
	})
	delaysDone := make(chan error, 1)
	go func() { delaysDone <- delays.Run(context.WithoutCancel(ctx)) }()

	var emitted int // wire messages handed to the publisher, injected copies and delayed ones included
	var faulted []generator.Event
	// The tick whose parts are being sent: when its first part started and
	// how late, and its messages so far.
	var (
		lag, tickBegin = time.Duration(0), time.Time{}
		tickMessages   int
	)
	runErr := sched.Run(ctx, func(ctx context.Context, b generator.Batch) error {
		if b.Part == 0 {
			lag, tickBegin, tickMessages = time.Since(b.Events[0].Time), time.Now(), 0
		}
		events := b.Events
		running.mint(b.Events) // before faults: copies share their original's id
		if inj.Active() {
			faulted = inj.Apply(b.Events, b.At, nil, faulted[:0])
			events = sendNow(faulted, delays, start.Add(b.At))
		}
		// A request opens when it is handed to the publisher: an answer
		// may come before Emit returns (it waits for the publish).
		sentAt := time.Now()
		if err := source.Emit(ctx, events); err != nil {
			return err
		}
		running.sentOnWire(events, sentAt)
		// The generated values, whatever faults did to them.
		if b.Part == 0 {
			metrics.ObserveTick(lag, b.Events)
		} else {
			metrics.ObserveValues(b.Events)
		}
		emitted += len(events)
		tickMessages += len(events)
		if b.Last {
			faultLog.tick(time.Now())
			logger.Info("tick", "at", b.At, "messages", tickMessages, "lag", lag.Round(time.Millisecond),
				"took", time.Since(tickBegin).Round(time.Millisecond), "emitted", emitted)
		}
		return nil
	})
	// Delayed messages still held: a natural end waits for them, a signal
	// sends them now (within --shutdown-timeout, with the buffer flush).
	delays.Close(ctx.Err() != nil)
	if n := delays.Len(); n > 0 {
		logger.Info("sending the messages a delay fault still holds", "held", n, "now", ctx.Err() != nil)
	}
	emitted += waitDelays(delays, delaysDone, ctx.Err() != nil, opts.shutdownTimeout, logger)
	faultLog.flush()
	// Stop taking new work. Every Emit returned, so no publish is in flight.
	source.Close()
	closeErr := router.Close()
	<-routerDone
	if runErr == nil && ctx.Err() == nil {
		// The natural end of a --count run is not a shutdown: wait until
		// every buffered message is confirmed, through an outage too.
		if err := pair.Drain(ctx, opts.conn.timeout); err != nil && ctx.Err() == nil {
			logger.Warn("giving up on buffered messages", "error", err)
		}
	}
	shutdownPublisher(pair, opts.shutdownTimeout)
	err = endSend(ctx, opts, runErr, closeErr, emitted, metrics.totals.report(), logger)
	if running.tracker != nil {
		if jerr := judgeRun(ctx, running.tracker, opts.judge, runErr == nil && ctx.Err() == nil, stderr); err == nil {
			err = jerr
		}
	}
	return err
}

// endSend logs the stopped line and decides the run's error: the
// schedule's or the router's failure, else, for a --count run that ended
// by itself, its drops. A run ended by a signal reports its drops in a
// warning and returns nil.
func endSend(ctx context.Context, opts sendOptions, runErr, closeErr error, emitted int, r runReport, logger *slog.Logger) error {
	logger.Info("stopped", "published", r.Published, "dropped", r.Dropped, "unroutable", r.Unroutable, "emitted", emitted)
	signalled := ctx.Err() != nil
	if runErr != nil && !(errors.Is(runErr, context.Canceled) && signalled) {
		return fmt.Errorf("send: %w", runErr)
	}
	if closeErr != nil {
		return fmt.Errorf("stop router: %w", closeErr)
	}
	line := r.dropLine(opts)
	switch {
	case line == "":
		return nil
	case signalled:
		logger.Warn(line)
		return nil
	default:
		return errors.New(line)
	}
}

// rebindOption maps --rebind-window to transport.Options, where 0 means
// the default: --rebind-window 0 turns the retry off.
func rebindOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// newSendRouter wires source -> codec middleware -> publisher and, for the
// in-process transport, a receive handler that prints what arrives.
func newSendRouter(opts sendOptions, pair transport.Pair, source *codec.Source, stdout io.Writer, logger *slog.Logger) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: opts.shutdownTimeout}, quietWatermillLogger(logger))
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	router.AddMiddleware(codec.PublishMiddleware(pair.Publisher), codec.Middleware())
	router.AddHandler("publish", "events", source, codec.TopicPrefix+"*", routerPublisher{pair.Publisher},
		func(msg *message.Message) ([]*message.Message, error) { return []*message.Message{msg}, nil })
	if opts.conn.transport == "gochannel" {
		// The in-process demo: print what the subscriber receives.
		rcv := newReceiver(receiveOptions{output: opts.output}, stdout, logger, nil)
		router.AddConsumerHandler("receive", codec.TopicPrefix+"*", pair.Subscriber, rcv.handle)
	}
	return router, nil
}

// quietWatermillLogger hands watermill our logger with its chatty lifecycle
// messages (Starting handler, ...) moved to debug.
func quietWatermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	return gatedLogger{
		LoggerAdapter: watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		logger:        logger,
	}
}

// gatedLogger drops watermill's Info, Debug and Trace calls before their
// fields are converted when the level is off: the router logs at Trace
// twice per message, and the adapter builds the attributes before slog
// looks at the level.
type gatedLogger struct {
	watermill.LoggerAdapter
	logger *slog.Logger
}

func (g gatedLogger) Info(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), slog.LevelDebug) { // Info is mapped to Debug
		g.LoggerAdapter.Info(msg, fields)
	}
}

func (g gatedLogger) Debug(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), slog.LevelDebug) {
		g.LoggerAdapter.Debug(msg, fields)
	}
}

func (g gatedLogger) Trace(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), watermill.LevelTrace) {
		g.LoggerAdapter.Trace(msg, fields)
	}
}

func (g gatedLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return gatedLogger{LoggerAdapter: g.LoggerAdapter.With(fields), logger: g.logger}
}

func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// routerPublisher hands the router the publisher without letting it close
// it: the router closes a handler's publisher with no deadline of ours
// (the AMQP one then waits up to its publish timeout for a reconnect), so
// during an outage CloseTimeout ran out first, send exited 1 and the
// buffered messages vanished unlogged. runSend shuts it down itself.
type routerPublisher struct{ message.Publisher }

func (routerPublisher) Close() error { return nil }

// shutdownPublisher flushes what the publisher still buffers within
// timeout (transport.Pair.Shutdown); it logs and counts what it had to
// drop.
func shutdownPublisher(pair transport.Pair, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = pair.Shutdown(ctx)
}
