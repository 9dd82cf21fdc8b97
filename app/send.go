package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
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
//
// Its phases, each a sendRun method: serve health, metrics and control;
// connect the transport and the router; start the kubernetes source (its
// first list comes before the schedule); build the schedule, injector and
// judge; start the bus source and the reload; run the ticks; finish.
func runSend(ctx context.Context, opts sendOptions, stdout, stderr io.Writer, logger *slog.Logger) error {
	// SIGHUP means "reload" (watchConfig takes it over once running); until
	// then it must not end the process, as its default action would.
	signal.Ignore(syscall.SIGHUP)
	r := newSendRun(opts, logger)
	srv, err := r.serve()
	if err != nil {
		return err
	}
	defer shutdownHTTP(srv, opts.shutdownTimeout, r.logger)
	err = r.connect(ctx, stdout)
	if r.pair.Close != nil {
		defer r.pair.Close()
	}
	if err != nil {
		return stoppedEarly(err)
	}
	defer func() { _ = r.stop() }() // when a phase below fails; finish stopped it otherwise
	stopKube, err := r.startKube(ctx)
	if err != nil {
		return stoppedEarly(err)
	}
	defer stopKube()
	err = r.build()
	if r.exprWarn != nil {
		defer r.exprWarn.Flush()
	}
	if err != nil {
		return err
	}
	stopFeedback, err := r.startFeedback(ctx)
	if err != nil {
		return err
	}
	defer stopFeedback()
	emitted, runErr := r.tick(ctx)
	return r.finish(ctx, runErr, emitted, stderr)
}

// stoppedEarly is nil for errStopped (a signal before the first tick).
func stoppedEarly(err error) error {
	if errors.Is(err, errStopped) {
		return nil
	}
	return err
}
