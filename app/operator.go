package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/policy"
	"github.com/labsea/metricsender/standin"
	"github.com/labsea/metricsender/telemetry"
	"github.com/labsea/metricsender/transport"
)

func operatorCommand() *cli.Command {
	hpa := policy.DefaultHPAConfig() // the hpa flags' defaults
	flags := append([]cli.Flag{}, brokerFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "policy", Value: "follow", EnvVars: env("policy"),
			Usage: "follow (apply what is requested) or hpa (the HorizontalPodAutoscaler algorithm on --metric)"},
		&cli.StringFlag{Name: "metric", Value: "cpu", EnvVars: env("metric"), Usage: "hpa: the metric it scales on (per replica, or the app's total with --source external)"},
		&cli.StringFlag{Name: "target", EnvVars: env("target"), Usage: "hpa: the metric's target value per replica (a number or quantity, required with hpa)"},
		&cli.IntFlag{Name: "min", Value: int(hpa.Min), EnvVars: env("min"), Usage: "hpa: fewest replicas (and the count it assumes before it knows one)"},
		&cli.IntFlag{Name: "max", Value: int(hpa.Max), EnvVars: env("max"), Usage: "hpa: most replicas"},
		&cli.Float64Flag{Name: "tolerance", Value: hpa.Tolerance, EnvVars: env("tolerance"), Usage: "hpa: no change while value/target is within this of 1"},
		&cli.DurationFlag{Name: "stabilization", Value: hpa.Stabilization, EnvVars: env("stabilization"),
			Usage: "hpa: the controller's downscale stabilization: scale down only to the highest count recommended within this window"},
		&cli.StringFlag{Name: "source", Value: string(policy.SourcePods), EnvVars: env("source"),
			Usage: "hpa: pods (the value is per replica) or external (the app's total, an External metric's AverageValue target)"},
	)
	for _, f := range hpaBehaviorFlags() {
		flags = append(flags, &cli.StringFlag{Name: f.flag, EnvVars: env(f.flag), Usage: "hpa: " + f.usage})
	}
	flags = append(flags,
		&cli.DurationFlag{Name: "delay", EnvVars: env("delay"), Usage: "actuation time: publish what it applied this long after the request"},
		&cli.DurationFlag{Name: "jitter", EnvVars: env("jitter"),
			Usage: "add a seeded random [0, jitter) to each delay (one app's answers keep their order)"},
		&cli.Float64Flag{Name: "miss", EnvVars: env("miss"), Usage: "ignore each request with this probability, to show a bad operator being caught"},
		&cli.Int64Flag{Name: "seed", EnvVars: env("seed"), DefaultText: "a random one, logged",
			Usage: "seed of --miss and --jitter: the same seed and requests give the same answers"},
		&cli.StringFlag{Name: "topic", Value: codec.TopicPrefix + "*", EnvVars: env("topic"), Usage: "the requests' binding pattern"},
		httpAddrFlag(""),
	)
	flags = append(flags, logFlags()...)
	return &cli.Command{
		Name:         "operator",
		Usage:        "a stand-in operator: read Metrics.*, decide (follow or hpa) and publish what it applied on Allocation.{app}",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			opts, err := operatorOptionsFrom(c)
			if err != nil {
				return err
			}
			logger, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			return runOperator(c.Context, opts, logger)
		},
	}
}

type operatorOptions struct {
	conn     connection
	cfg      standin.Config // Subscriber, Publisher, Counter and Subscribed are the run's
	name     string
	seedSet  bool
	httpAddr string
}

func operatorOptionsFrom(c *cli.Context) (operatorOptions, error) {
	if c.NArg() > 0 {
		return operatorOptions{}, usagef("operator takes no arguments, got %q", c.Args().Slice())
	}
	opts := operatorOptions{name: c.String("policy"), httpAddr: c.String("http-addr"),
		cfg: standin.Config{Delay: c.Duration("delay"), Jitter: c.Duration("jitter"), Miss: c.Float64("miss"), Topic: c.String("topic")}}
	switch cfg := opts.cfg; {
	case cfg.Delay < 0:
		return operatorOptions{}, usagef("--delay %s: must be >= 0", cfg.Delay)
	case cfg.Jitter < 0:
		return operatorOptions{}, usagef("--jitter %s: must be >= 0", cfg.Jitter)
	case !(cfg.Miss >= 0 && cfg.Miss <= 1):
		return operatorOptions{}, usagef("--miss %g: must be a probability in [0, 1]", cfg.Miss)
	case cfg.Topic == "":
		return operatorOptions{}, usagef("--topic: empty pattern")
	}
	switch opts.name {
	case "follow":
		opts.cfg.Policy = policy.Follow{}
	case "hpa":
		if !c.IsSet("target") {
			return operatorOptions{}, usagef("--policy hpa needs --target (the metric's value per replica, e.g. 500m)")
		}
		target, err := parseTarget(c.String("target"))
		if err != nil {
			return operatorOptions{}, usagef("--target %q: %w", c.String("target"), err)
		}
		hc := policy.DefaultHPAConfig()
		hc.Metric, hc.Target = c.String("metric"), target
		hc.Min, hc.Max, hc.Tolerance, hc.Stabilization = float64(c.Int("min")), float64(c.Int("max")), c.Float64("tolerance"), c.Duration("stabilization")
		if err := hc.Set("source", c.String("source")); err != nil {
			return operatorOptions{}, usagef("--source: %w", err)
		}
		for _, f := range hpaBehaviorFlags() { // the spec keys of preview --operator hpa, one parser
			if c.IsSet(f.flag) {
				if err := hc.Set(f.key, c.String(f.flag)); err != nil {
					return operatorOptions{}, usagef("--%s: %w", f.flag, err)
				}
			}
		}
		h, err := hc.New()
		if err != nil {
			return operatorOptions{}, usagef("--policy hpa: %w", err)
		}
		opts.cfg.Policy = h
	default:
		return operatorOptions{}, usagef("--policy %q: must be follow or hpa", opts.name)
	}
	conn, err := resolveConnection(c, nil)
	if err != nil {
		return operatorOptions{}, err
	}
	opts.conn = conn
	opts.cfg.Seed, opts.seedSet = c.Int64("seed"), c.IsSet("seed")
	return opts, nil
}

// hpaBehaviorFlags are the operator's flags for the HPA's spec.behavior,
// each the spec key of `preview --operator hpa:...` it sets.
func hpaBehaviorFlags() []hpaFlag {
	return []hpaFlag{
		{"behavior", "behavior", "default (spec.behavior {}: the API's default policies) or none (no behavior: the controller's older rules)"},
		{"up", "up", "scale-up policies, + joined, e.g. 4pods/15s+100%/15s (implies a behavior)"},
		{"up-select", "upSelect", "scale-up selectPolicy: max, min or disabled"},
		{"up-window", "upWindow", "scale-up stabilization window (default 0s with a behavior)"},
		{"down", "down", "scale-down policies, e.g. 100%/15s (implies a behavior)"},
		{"down-select", "downSelect", "scale-down selectPolicy: max, min or disabled"},
		{"down-window", "downWindow", "scale-down stabilization window (default --stabilization)"},
	}
}

type hpaFlag struct{ flag, key, usage string }

// runOperator answers requests until ctx is cancelled; what is still
// waiting for its delay then is published at once.
func runOperator(ctx context.Context, opts operatorOptions, logger *slog.Logger) error {
	cfg := opts.cfg
	if !opts.seedSet {
		cfg.Seed = generator.RandomSeed()
	}
	logger.Info("starting", "policy", opts.name, "delay", cfg.Delay, "jitter", cfg.Jitter, "miss", cfg.Miss, "seed", cfg.Seed,
		"transport", opts.conn.transport, "uri", transport.RedactURI(opts.conn.uri))
	reg := telemetry.NewRegistry()
	view := live.NewOperatorView(opts.name, telemetry.NewStandin(reg), 0) // the page, counting into /metrics too
	var pairReady laterReady
	srv, err := startHTTP(opts.httpAddr, reg, pairReady.ready, view.Routes, logger)
	if err != nil {
		return err
	}
	srv.OnShutdown(view.Close)
	defer shutdownHTTP(srv, 5*time.Second, logger)

	pair, err := connectPair(ctx, opts.conn, transport.Options{
		Confirm: true,
		Topics:  []string{cfg.Topic, codec.AllocationPrefix + "*"},
	}, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer pair.Close()

	cfg.Subscriber, cfg.Publisher, cfg.Counter, cfg.Decided = pair.Subscriber, pair.Publisher, view, view.Decided
	cfg.Subscribed = func() { pairReady.set(readyWithNode(pair)) } // ready once subscribed: requests from now on are read
	op, err := standin.New(cfg, logger)
	if err != nil {
		return err
	}
	n, err := op.Run(ctx)
	if err != nil {
		return err
	}
	logger.Info("stopped", "requests", n.Requests, "answered", n.Answered, "missed", n.Missed)
	return nil
}

// parseTarget reads --target: a number or a quantity ("500m").
func parseTarget(text string) (float64, error) {
	v, err := generator.ParseNumber(text)
	if err != nil {
		return 0, err
	}
	if !(v > 0) {
		return 0, errors.New("must be > 0")
	}
	return v, nil
}
