package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
	"github.com/labsea/metricsender/preview"
)

func previewCommand() *cli.Command {
	return &cli.Command{
		Name:  "preview",
		Usage: "print (and optionally plot) every message a config would send over --duration, on a virtual clock: no broker, no waiting",
		Description: "Rows are printed when --format is given or --plot is not: with --plot alone only the picture is written.\n" +
			"Rows stream as they are made, so a long preview does not build up in memory; the plot keeps its points.",
		Flags: []cli.Flag{
			configFlag(),
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, EnvVars: env("duration"),
				Usage: "preview the ticks in [0, duration) (required, > 0)"},
			seedFlag(),
			intervalFlag(),
			shardFlag(),
			&cli.StringFlag{Name: "operator", EnvVars: env("operator"),
				Usage: "run a stand-in operator on the virtual clock: follow, or hpa:metric=cpu,target=0.5 (source, min, max, tolerance, stabilization; behavior, up=4pods/15s+100%/15s, upSelect, upWindow, down, downSelect, downWindow), each with delay=30s; rows gain the observed replicas"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", EnvVars: env("format"),
				Usage: "rows as " + strings.Join(preview.Formats(), ", ") + " (csv/json columns: elapsed,app,metric,value; elapsed in seconds)"},
			&cli.StringFlag{Name: "plot", EnvVars: env("plot"),
				Usage: "draw each numeric metric over time into FILE.svg or FILE.png (one panel per metric, one line per deployment)"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			opts, err := previewOptionsFrom(c)
			if err != nil {
				return err
			}
			err = preview.Run(c.Context, opts, c.App.Writer, c.App.ErrWriter)
			if ie := (*preview.InputError)(nil); errors.As(err, &ie) {
				return &usageError{err}
			}
			return err
		},
	}
}

// previewOptionsFrom maps the flags, env and the config to preview's
// options. Without a seed (--seed or the config's) it picks one and prints
// it to stderr, so the run can be replayed.
func previewOptionsFrom(c *cli.Context) (preview.Options, error) {
	if c.NArg() > 0 {
		return preview.Options{}, usagef("preview takes no arguments, got %q", c.Args().Slice())
	}
	if !c.IsSet("duration") {
		return preview.Options{}, usagef("--duration is required (e.g. --duration 30m)")
	}
	if d := c.Duration("duration"); d <= 0 {
		return preview.Options{}, usagef("--duration %s: must be > 0", d)
	}
	if c.IsSet("interval") && c.Duration("interval") <= 0 {
		return preview.Options{}, usagef("--interval %s: must be > 0", c.Duration("interval"))
	}
	format := c.String("format")
	if err := preview.CheckFormat(format); err != nil {
		return preview.Options{}, &usageError{err}
	}
	plotPath := c.String("plot")
	if plotPath != "" {
		if _, err := preview.PlotFormat(plotPath); err != nil {
			return preview.Options{}, &usageError{err}
		}
		if !c.IsSet("format") {
			format = ""
		}
	}
	var operator *policy.Spec
	if text := c.String("operator"); text != "" {
		spec, err := policy.ParseSpec(text)
		if err != nil {
			return preview.Options{}, usagef("--operator %w", err)
		}
		operator = &spec
	}
	shard, err := previewShardOf(c)
	if err != nil {
		return preview.Options{}, err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return preview.Options{}, err
	}
	opts := preview.Options{
		Config:   cfg,
		Duration: c.Duration("duration"),
		Interval: c.Duration("interval"),
		Format:   format,
		Operator: operator,
		Plot:     plotPath,
		Shard:    shard,
	}
	seed, ok := seedOf(c, cfg)
	if !ok {
		seed = generator.RandomSeed()
		fmt.Fprintf(c.App.ErrWriter, "seed: %d\n", seed)
	}
	opts.Seed = seed
	return opts, nil
}
