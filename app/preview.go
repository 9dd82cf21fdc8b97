package app

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
)

// previewFormats lists the --format values, for help and errors.
const previewFormats = "table, csv, json"

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
				Usage: "run a stand-in operator on the virtual clock: follow, or hpa:metric=cpu,target=0.5 (min, max, tolerance, stabilization), each with delay=30s; rows gain the observed replicas"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", EnvVars: env("format"),
				Usage: "rows as " + previewFormats + " (csv/json columns: elapsed,app,metric,value; elapsed in seconds)"},
			&cli.StringFlag{Name: "plot", EnvVars: env("plot"),
				Usage: "draw each numeric metric over time into FILE.svg or FILE.png (one panel per metric, one line per deployment)"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			opts, err := previewOptionsFrom(c)
			if err != nil {
				return err
			}
			return runPreview(c.Context, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// previewOptions is everything preview needs, resolved from flags, env and the config.
type previewOptions struct {
	cfg      *generator.Config
	duration time.Duration
	interval time.Duration // 0: the config's
	seed     int64
	seedSet  bool
	format   string       // "": print no rows (--plot without --format)
	operator *policy.Spec // --operator; nil without
	plot     string       // "": no plot; else a .svg or .png path
	shard    generator.Shard
}

func previewOptionsFrom(c *cli.Context) (previewOptions, error) {
	if c.NArg() > 0 {
		return previewOptions{}, usagef("preview takes no arguments, got %q", c.Args().Slice())
	}
	if !c.IsSet("duration") {
		return previewOptions{}, usagef("--duration is required (e.g. --duration 30m)")
	}
	if d := c.Duration("duration"); d <= 0 {
		return previewOptions{}, usagef("--duration %s: must be > 0", d)
	}
	if c.IsSet("interval") && c.Duration("interval") <= 0 {
		return previewOptions{}, usagef("--interval %s: must be > 0", c.Duration("interval"))
	}
	format := c.String("format")
	if !contains(strings.Split(previewFormats, ", "), format) {
		return previewOptions{}, usagef("--format %q: must be one of %s", format, previewFormats)
	}
	plotPath := c.String("plot")
	if plotPath != "" {
		if _, err := plotFormat(plotPath); err != nil {
			return previewOptions{}, err
		}
		if !c.IsSet("format") {
			format = ""
		}
	}
	var operator *policy.Spec
	if text := c.String("operator"); text != "" {
		spec, err := policy.ParseSpec(text)
		if err != nil {
			return previewOptions{}, usagef("--operator %w", err)
		}
		operator = &spec
	}
	shard, err := previewShardOf(c)
	if err != nil {
		return previewOptions{}, err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return previewOptions{}, err
	}
	opts := previewOptions{
		shard:    shard,
		operator: operator,
		cfg:      cfg,
		duration: c.Duration("duration"),
		interval: c.Duration("interval"),
		format:   format,
		plot:     plotPath,
	}
	opts.seed, opts.seedSet = seedOf(c, cfg)
	return opts, nil
}

// plotFormat tells the image format of a --plot path by its extension.
func plotFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	default:
		return "", usagef("--plot %s: unknown image format %q (use .svg or .png)", path, ext)
	}
}

// runPreview runs the schedule of opts.cfg on a virtual clock over
// [0, opts.duration) and writes one row per metric of every event to stdout
// in opts.format (none when it is empty), streaming; with opts.plot it also
// draws the numeric metrics into that file. Notes for the user (the random
// seed chosen, what the plot leaves out, how many expressions failed) go
// to stderr. Deployments keep the state of their config (`state:`): a
// preview has no feedback. It returns ctx.Err()
// when ctx is cancelled, and a usage error (exit 2) when the config cannot
// be scheduled or nothing numeric is left to plot.
func runPreview(ctx context.Context, opts previewOptions, stdout, stderr io.Writer) error {
	if !opts.seedSet {
		opts.seed = randomSeed()
		fmt.Fprintf(stderr, "seed: %d\n", opts.seed)
	}
	var exprErrors, pending int // pending: in the batch Next is taking
	var firstExprError string
	start := time.Unix(0, 0).UTC()
	sched, err := generator.NewSchedule(opts.cfg, generator.ScheduleOptions{
		Start:    start,
		Run:      "preview",
		Seed:     opts.seed,
		Shard:    opts.shard,
		Interval: opts.interval,
		OnModelError: func(app, metric string, err error) {
			if pending++; exprErrors+pending == 1 {
				firstExprError = fmt.Sprintf("%s.%s: %v", app, metric, err)
			}
		},
	})
	if err != nil {
		return &usageError{fmt.Errorf("schedule: %w", err)}
	}
	defer func() {
		if exprErrors > 0 {
			fmt.Fprintf(stderr, "expression errors: %d (each sent the metric's previous value); the first: %s\n", exprErrors, firstExprError)
		}
	}()
	out := bufio.NewWriterSize(stdout, 64<<10)
	faults := opts.cfg.HasFaults()
	var op *previewOperator
	if opts.operator != nil {
		op = newPreviewOperator(*opts.operator, sched, start)
	}
	rows, err := newRowRenderer(opts.format, out, opts.cfg, opts.duration, opts.interval, rowColumns{replicas: op != nil, fault: faults})
	if err != nil {
		return err
	}
	var plot *plotData
	if opts.plot != "" {
		plot = newPlotData(ownedBy(opts.cfg, opts.shard), opts.duration, maxPlotLines)
		if opts.operator != nil {
			plot.withReplicas(opts.duration)
		}
	}
	var inj *generator.Injector
	var last func(generator.Event) bool
	if faults {
		inj = generator.NewInjector(opts.cfg, opts.seed, 0)
		last = lastTickIn(opts.cfg, opts.interval, opts.duration)
	}
	var faulted []generator.Event
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pending = 0
		b, ok := sched.Next()
		if !ok || b.At >= opts.duration {
			break
		}
		exprErrors += pending
		for _, ev := range b.Events {
			if plot != nil {
				plot.add(b.At, ev)
			}
			replicas := ""
			if op != nil {
				n := op.replicas(ev.App)
				replicas = policy.FormatReplicas(n)
				if plot != nil {
					plot.addReplicas(b.At, ev.App, n)
				}
			}
			if inj == nil {
				if err := writeRows(rows, b.At, ev, nil, replicas); err != nil {
					return err
				}
				if op != nil {
					op.decide(b.At, ev)
				}
				continue
			}
			faulted = inj.Apply([]generator.Event{ev}, b.At, last, faulted[:0])
			for _, f := range faulted {
				if err := writeRows(rows, b.At, ev, &f, replicas); err != nil {
					return err
				}
				if plot != nil && f.Fault != "" {
					plot.mark(b.At, ev, f.Fault)
				}
				if op != nil && !f.Suppressed {
					op.decide(b.At, f) // the operator reads what went on the wire
				}
			}
		}
		if op != nil {
			op.apply(b.At)
		}
	}
	if err := rows.Flush(); err != nil {
		return fmt.Errorf("write rows: %w", err)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write rows: %w", err)
	}
	if plot == nil {
		return nil
	}
	return plot.save(opts.plot, opts.duration, stderr)
}

// writeRows writes the rows of one event: its metrics as generated, or, with
// f, as faults made it (the event, a suppressed one or a copy): a value a
// fault left out (drop, silence, omit) is empty, and every row of it names
// its faults. A delayed message stands at its tick's time. replicas is
// what the tick saw (with --operator).
func writeRows(rows rowRenderer, at time.Duration, ev generator.Event, f *generator.Event, replicas string) error {
	for _, m := range ev.Metrics {
		value, fault := m.Value.Text, ""
		if f != nil {
			value, fault = "", f.Fault
			if !f.Suppressed {
				for _, fm := range f.Metrics {
					if fm.Name == m.Name {
						value = fm.Value.Text
					}
				}
			}
		}
		row := previewRow{elapsed: at, app: ev.App, metric: m.Name, value: value, replicas: replicas, fault: fault}
		if err := rows.Row(row); err != nil {
			return fmt.Errorf("write rows: %w", err)
		}
	}
	return nil
}

// lastTickIn returns whether an event is a deployment's last tick before
// duration: a bounded preview's last message is never dropped or
// silenced, as a `send --count` run's is not.
func lastTickIn(cfg *generator.Config, interval, duration time.Duration) func(generator.Event) bool {
	every := make(map[string]time.Duration, len(cfg.Deployments))
	for _, d := range cfg.Deployments {
		every[d.Name] = cmp.Or(d.Interval, interval, cfg.Interval)
	}
	start := time.Unix(0, 0).UTC()
	return func(ev generator.Event) bool {
		return ev.Time.Sub(start)+every[ev.App] >= duration
	}
}
