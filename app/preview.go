package app

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
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
	format   string // "": print no rows (--plot without --format)
	plot     string // "": no plot; else a .svg or .png path
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
// seed chosen, what the plot leaves out) go to stderr. It returns ctx.Err()
// when ctx is cancelled, and a usage error (exit 2) when the config cannot
// be scheduled or nothing numeric is left to plot.
func runPreview(ctx context.Context, opts previewOptions, stdout, stderr io.Writer) error {
	if !opts.seedSet {
		opts.seed = randomSeed()
		fmt.Fprintf(stderr, "seed: %d\n", opts.seed)
	}
	sched, err := generator.NewSchedule(opts.cfg, generator.ScheduleOptions{
		Start:    time.Unix(0, 0).UTC(),
		Run:      "preview",
		Seed:     opts.seed,
		Shard:    opts.shard,
		Interval: opts.interval,
	})
	if err != nil {
		return &usageError{fmt.Errorf("schedule: %w", err)}
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	rows, err := newRowRenderer(opts.format, out, opts.cfg, opts.duration, opts.interval)
	if err != nil {
		return err
	}
	var plot *plotData
	if opts.plot != "" {
		plot = newPlotData(ownedBy(opts.cfg, opts.shard), opts.duration, maxPlotLines)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, ok := sched.Next()
		if !ok || b.At >= opts.duration {
			break
		}
		for _, ev := range b.Events {
			for _, m := range ev.Metrics {
				if err := rows.Row(b.At, ev.App, m.Name, m.Value.Text); err != nil {
					return fmt.Errorf("write rows: %w", err)
				}
			}
			if plot != nil {
				plot.add(b.At, ev)
			}
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

// rowRenderer writes preview rows in one format. Row may buffer; Flush
// writes what is left. Not safe for concurrent use.
type rowRenderer interface {
	Row(elapsed time.Duration, app, metric, value string) error
	Flush() error
}

// newRowRenderer returns the renderer of format ("" writes nothing). cfg,
// duration and the --interval override size the table's columns before the
// first row, so it streams.
func newRowRenderer(format string, w io.Writer, cfg *generator.Config, duration, interval time.Duration) (rowRenderer, error) {
	switch format {
	case "":
		return discardRows{}, nil
	case "csv":
		r := &csvRows{w: csv.NewWriter(w)}
		return r, r.w.Write([]string{"elapsed", "app", "metric", "value"})
	case "json":
		return &jsonRows{enc: json.NewEncoder(w)}, nil
	case "table":
		return newTableRows(w, cfg, duration, interval)
	default:
		return nil, usagef("--format %q: must be one of %s", format, previewFormats)
	}
}

// seconds formats an elapsed time as a decimal number of seconds: 0, 10, 12.5.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

type discardRows struct{}

func (discardRows) Row(time.Duration, string, string, string) error { return nil }
func (discardRows) Flush() error                                    { return nil }

type csvRows struct{ w *csv.Writer }

func (r *csvRows) Row(elapsed time.Duration, app, metric, value string) error {
	return r.w.Write([]string{seconds(elapsed), app, metric, value})
}

func (r *csvRows) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

type jsonRows struct{ enc *json.Encoder }

// jsonRow is one line of --format json; elapsed is a JSON number.
type jsonRow struct {
	Elapsed json.Number `json:"elapsed"`
	App     string      `json:"app"`
	Metric  string      `json:"metric"`
	Value   string      `json:"value"`
}

func (r *jsonRows) Row(elapsed time.Duration, app, metric, value string) error {
	return r.enc.Encode(jsonRow{Elapsed: json.Number(seconds(elapsed)), App: app, Metric: metric, Value: value})
}

func (r *jsonRows) Flush() error { return nil }

// tableRows aligns columns for a terminal without buffering rows (as
// text/tabwriter would until its flush): the widths of app and metric are
// known from the config, value is the last column so it needs no width,
// and elapsed is right-aligned to the width of the duration, with three
// decimals (milliseconds) when ticks can fall between whole seconds.
type tableRows struct {
	w                       io.Writer
	decimals                int // of elapsed: 0 or 3
	elapsedW, appW, metricW int
}

func newTableRows(w io.Writer, cfg *generator.Config, duration, interval time.Duration) (*tableRows, error) {
	t := &tableRows{w: w, appW: len("APP"), metricW: len("METRIC")}
	fractional := cfg.Spread || interval%time.Second != 0 || cfg.Interval%time.Second != 0
	for _, d := range cfg.Deployments {
		fractional = fractional || d.Interval%time.Second != 0
		t.appW = max(t.appW, len(d.Name))
		for _, m := range d.Metrics {
			t.metricW = max(t.metricW, len(m.Name))
		}
	}
	if fractional {
		t.decimals = 3
	}
	t.elapsedW = max(len("ELAPSED"), len(t.elapsed(duration)))
	_, err := fmt.Fprintf(w, "%*s  %-*s  %-*s  %s\n", t.elapsedW, "ELAPSED", t.appW, "APP", t.metricW, "METRIC", "VALUE")
	return t, err
}

func (t *tableRows) elapsed(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', t.decimals, 64)
}

func (t *tableRows) Row(elapsed time.Duration, app, metric, value string) error {
	_, err := fmt.Fprintf(t.w, "%*s  %-*s  %-*s  %s\n", t.elapsedW, t.elapsed(elapsed), t.appW, app, t.metricW, metric, value)
	return err
}

func (t *tableRows) Flush() error { return nil }
