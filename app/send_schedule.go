package app

import (
	"context"
	"fmt"
	"time"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/throttle"
	"github.com/labsea/metricsender/judge"
	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/sendloop"
	"github.com/labsea/metricsender/telemetry"
)

// startKube starts the kubernetes feedback source, when there is one,
// before the schedule: its first list comes before the schedule's start,
// so the first tick already reflects the cluster and a slow list does not
// make ticks to catch up. What it observes is held until startFeedback.
// The returned stop ends the source and waits for it.
func (r *sendRun) startKube(ctx context.Context) (stop func(), err error) {
	if r.opts.feedback.kube == nil {
		return func() {}, nil
	}
	kubeCtx, stopKube := context.WithCancel(ctx)
	kubeCfg := *r.opts.feedback.kube
	kubeCfg.Deployments = r.opts.shard.Deployments(r.opts.cfg)
	src, waitKube, err := kube.Start(kubeCtx, kubeCfg, &r.kubeRec, r.opts.conn.timeout, r.logger)
	if err != nil {
		stopKube()
		return nil, fmt.Errorf("feedback kubernetes: %w", err)
	}
	stop = func() { stopKube(); waitKube() }
	ready := src.Ready
	r.kubeReady.Store(&ready)
	r.kubeSrc = src
	if ctx.Err() != nil {
		r.logger.Info("stopped before the first tick")
		stop()
		return nil, errStopped
	}
	return stop, nil
}

// build makes the schedule, starting now, its fault injector, and with
// feedback its judge; the control API serves them from here on. The
// caller flushes r.exprWarn at the end.
func (r *sendRun) build() error {
	opts, metrics, reg := r.opts, r.metrics, r.reg
	r.start = time.Now()
	r.exprWarn = throttle.New(r.logger, throttle.Config{
		Message: "expression failed: the metric sent its previous value", CountKey: "errors", KeysKey: "metrics"})
	sched, err := generator.NewSchedule(opts.cfg, generator.ScheduleOptions{
		Start:    r.start,
		Run:      r.run,
		Seed:     opts.seed,
		Shard:    opts.shard,
		Interval: opts.interval,
		Count:    opts.count,
		// A tick is made part by part as the publisher takes it, so 150,000
		// deployments' events are never in memory at once.
		MaxBatch: codec.EventsInFlight,
		OnModelError: func(app, metric string, err error) {
			metrics.ExprError()
			r.exprWarn.Warn(app+"."+metric, "app", app, "metric", metric, "error", err)
		},
	})
	if err != nil {
		return &usageError{fmt.Errorf("schedule: %w", err)}
	}
	telemetry.RegisterTickInterval(reg, sched.MinInterval)
	inj := generator.NewInjector(opts.cfg, opts.seed, opts.count)
	telemetry.RegisterFaults(reg, inj)
	running := runningSchedule{Judged: judge.NewJudged(sched, nil), inj: inj}
	if opts.feedback.bus || opts.feedback.api || opts.feedback.kube != nil {
		var hpa judge.Autoscaler
		if r.kubeSrc != nil {
			hpa = r.kubeSrc
		}
		if err := running.addJudge(opts, reg, metrics, hpa, r.live); err != nil {
			return err
		}
	}
	r.later.Set(running)
	r.later.SetInjector(inj)
	r.live.Start(live.Run{Start: r.start, Schedule: sched, Injector: inj, Judge: running.Tracker, MaxReaction: opts.judge.maxReaction})
	r.sched, r.inj, r.running = sched, inj, running
	return nil
}

// startFeedback subscribes the bus source, hands the kubernetes source's
// held first list to the schedule, and starts the config reload. The
// returned stop ends them and waits for them.
func (r *sendRun) startFeedback(ctx context.Context) (stop func(), err error) {
	opts, logger, metrics, running := r.opts, r.logger, r.metrics, r.running
	stopBus := func() {}
	if opts.feedback.bus {
		bus, err := feedback.NewBus(feedback.BusConfig{
			Subscriber: r.pair.Subscriber,
			Topic:      opts.feedback.topic,
			Recorder:   running.Recorder(),
			Counter:    telemetry.NewFeedback(r.reg),
		}, logger)
		if err != nil {
			return nil, &usageError{err}
		}
		busCtx, cancel := context.WithCancel(ctx)
		waitBus := bus.Start(busCtx, logger)
		stopBus = func() { cancel(); waitBus() }
		ready := bus.Ready
		r.busReady.Store(&ready)
	}
	var reloadInto applier = running
	if r.kubeSrc != nil {
		r.kubeRec.Set(running.Recorder(), logger)
		reloadInto = kubeApplier{applier: running, src: r.kubeSrc, shard: opts.shard}
	}
	metrics.WatchState(r.sched.ObservedStates)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watchConfig(watchCtx, opts.cfg.Path, logger, newReloader(opts.cfg.Path, opts.cfg, reloadInto, metrics, logger).Reload)
	}()
	return func() { stopWatch(); <-watchDone; stopBus() }, nil
}

// tick runs the schedule onto the router's source until --count or a
// signal (sendloop: faults, delays, the tick lines); it returns the
// messages handed to the publisher and the schedule's error.
func (r *sendRun) tick(ctx context.Context) (emitted int, err error) {
	return sendloop.Run(ctx, sendloop.Config{
		Schedule: r.sched, Injector: r.inj, Start: r.start, Emit: r.source.Emit, ShutdownTimeout: r.opts.shutdownTimeout,
		Mint: r.running.Mint, Sent: r.live.SentHook(r.running.SentOnWire), Tick: r.live.TickHook(r.metrics.ObserveTick),
		Values: r.metrics.ObserveValues, Faulted: r.live.Faulted,
	}, r.logger)
}
