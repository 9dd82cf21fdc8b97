package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/checker"
	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/receiver"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

func receiveCommand() *cli.Command {
	flags := append([]cli.Flag{configFlag()}, brokerFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "queue", EnvVars: env("queue"),
			Usage: "consume this durable queue (created as a quorum queue if missing) instead of an exclusive one, so restarts lose nothing"},
		&cli.BoolFlag{Name: "check", EnvVars: env("check"),
			Usage: "report missing, duplicated and out-of-order messages (and, with --config given, values the config does not allow); exit 1 on loss"},
		&cli.BoolFlag{Name: "strict", EnvVars: env("strict"), Usage: "with --check, duplicates fail the run too"},
		&cli.IntFlag{Name: "expect", EnvVars: env("expect"),
			Usage: "with --check and --config, expect seqs 1..N from every deployment (a send --count N run): missing also counts seqs after the last one seen and deployments never seen, and receive stops once all arrived (or at --timeout)"},
		&cli.StringSliceFlag{Name: "topic", EnvVars: env("topic"), Value: cli.NewStringSlice(codec.TopicPrefix + "*"),
			Usage: "binding pattern (* one word, # zero or more); repeatable"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", EnvVars: env("output"),
			Usage: "text (the original receiver's block) or json (one object a line)"},
		&cli.IntFlag{Name: "count", EnvVars: env("count"), Usage: "exit 0 after N messages; 0 runs until stopped"},
		&cli.DurationFlag{Name: "timeout", EnvVars: env("timeout"),
			Usage: "exit 1 if --count messages have not arrived within this time"},
	)
	flags = append(flags, httpAddrFlag(""),
		appMetricsLimitFlag("give at most this many deployments a messages_received_total series of their own on /metrics; messages of any further ones count in one series without the app label"))
	flags = append(flags, logFlags()...)
	return &cli.Command{
		Name:         "receive",
		Usage:        "subscribe Metrics.* and print each message",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			opts, err := receiveOptionsFrom(c)
			if err != nil {
				return err
			}
			logger, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return runReceive(c.Context, opts, c.App.Writer, c.App.ErrWriter, logger)
		},
	}
}

type receiveOptions struct {
	cfg      *generator.Config // nil unless --config was given
	queue    string
	check    bool
	strict   bool
	expect   int // --expect: ticks per deployment; 0 off
	conn     connection
	topics   []string
	output   string
	count    int
	timeout  time.Duration
	httpAddr string
	// appMetricsLimit bounds the app label's values: they come from the
	// wire, so a peer must not be able to grow the scrape without end.
	appMetricsLimit int
}

func receiveOptionsFrom(c *cli.Context) (receiveOptions, error) {
	if c.NArg() > 0 {
		return receiveOptions{}, usagef("receive takes no arguments, got %q", c.Args().Slice())
	}
	if err := checkOutput(c); err != nil {
		return receiveOptions{}, err
	}
	if c.Int("count") < 0 {
		return receiveOptions{}, usagef("--count %d: must be >= 0", c.Int("count"))
	}
	if c.Duration("timeout") < 0 {
		return receiveOptions{}, usagef("--timeout %s: must be >= 0", c.Duration("timeout"))
	}
	topics := c.StringSlice("topic")
	for _, t := range topics {
		if t == "" {
			return receiveOptions{}, usagef("--topic: empty pattern")
		}
	}
	// The config is optional here: it only bounds --check and may hold the connection.
	var cfg *generator.Config
	if c.IsSet("config") {
		var err error
		if cfg, err = loadConfig(c); err != nil {
			return receiveOptions{}, err
		}
	}
	if c.Bool("strict") && !c.Bool("check") {
		return receiveOptions{}, usagef("--strict goes with --check")
	}
	switch n := c.Int("expect"); {
	case n < 0:
		return receiveOptions{}, usagef("--expect %d: must be >= 0", n)
	case n > 0 && !c.Bool("check"):
		return receiveOptions{}, usagef("--expect goes with --check")
	case n > 0 && cfg == nil:
		return receiveOptions{}, usagef("--expect needs --config: the deployments whose messages to expect")
	}
	conn, err := resolveConnection(c, cfg)
	if err != nil {
		return receiveOptions{}, err
	}
	appMetricsLimit, err := appMetricsLimitOf(c)
	if err != nil {
		return receiveOptions{}, err
	}
	return receiveOptions{cfg: cfg, queue: c.String("queue"), check: c.Bool("check"), strict: c.Bool("strict"), expect: c.Int("expect"),
		conn: conn, topics: topics, output: c.String("output"),
		count: c.Int("count"), timeout: c.Duration("timeout"),
		httpAddr: c.String("http-addr"), appMetricsLimit: appMetricsLimit}, nil
}

// errCountNotReached: --timeout passed before --count messages arrived.
var errCountNotReached = errors.New("--count not reached")

// errCheckFailed: the receiver's check found loss; its summary is printed already.
var errCheckFailed = errors.New("check failed")

// runReceive prints messages until ctx is cancelled, --count is reached
// or every message --expect expects arrived (nil), or --timeout passes
// first (errCountNotReached; with --check, errCheckFailed on loss).
func runReceive(ctx context.Context, opts receiveOptions, stdout, stderr io.Writer, logger *slog.Logger) error {
	logger.Info("starting", "transport", opts.conn.transport, "uri", transport.RedactURI(opts.conn.uri), "topics", opts.topics)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, opts.timeout)
		defer cancelTimeout()
	}
	reg := newRegistry()
	metrics := telemetry.NewReceive(reg, opts.appMetricsLimit, logger)
	metrics.Known(opts.cfg)
	var pairReady laterReady
	srv, err := startHTTP(opts.httpAddr, reg, pairReady.ready, nil, logger)
	if err != nil {
		return err
	}
	defer shutdownHTTP(srv, 5*time.Second, logger)

	pair, err := connectPair(ctx, opts.conn, transport.Options{
		Queue:       opts.queue,
		Topics:      opts.topics,
		ReceiveOnly: true,
	}, logger)
	if err != nil {
		return err
	}
	defer pair.Close()
	pairReady.set(readyWithNode(pair))

	var check *checker.Checker // nil without --check
	if opts.check {
		check = checker.New(checker.Config{Run: opts.cfg, Expect: opts.expect, Metrics: metrics})
	}
	rcv := receiver.New(receiver.Config{Output: opts.output, Count: opts.count, Done: cancel, Counter: metrics, Check: check}, stdout, logger)
	// The channel closes when ctx ends.
	msgs, err := pair.Subscriber.Subscribe(ctx, opts.topics[0])
	if err != nil {
		return fmt.Errorf("receive: subscribe: %w", err)
	}
	if err := rcv.Consume(msgs); err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	received, decodeErrors := rcv.Counts()
	logger.Info("stopped", "received", received, "decode_errors", decodeErrors)
	countMissed := opts.count > 0 && received < opts.count
	if check != nil {
		summary := check.Summary(decodeErrors)
		fmt.Fprintln(stderr, summary)
		if check.Failed(opts.strict) || countMissed {
			return errCheckFailed
		}
	}
	if countMissed && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %d of %d messages within %s", errCountNotReached, received, opts.count, opts.timeout)
	}
	return nil
}
