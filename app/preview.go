package app

import (
	"bufio"
	"cmp"
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
	sched, err := generator.NewSchedule(opts.cfg, generator.ScheduleOptions{
		Start:    time.Unix(0, 0).UTC(),
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
	rows, err := newRowRenderer(opts.format, out, opts.cfg, opts.duration, opts.interval, faults)
	if err != nil {
		return err
	}
	var plot *plotData
	if opts.plot != "" {
		plot = newPlotData(ownedBy(opts.cfg, opts.shard), opts.duration, maxPlotLines)
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
			if inj == nil {
				if err := writeRows(rows, b.At, ev, nil); err != nil {
					return err
				}
				continue
			}
			faulted = inj.Apply([]generator.Event{ev}, b.At, last, faulted[:0])
			for _, f := range faulted {
				if err := writeRows(rows, b.At, ev, &f); err != nil {
					return err
				}
				if plot != nil && f.Fault != "" {
					plot.mark(b.At, ev, f.Fault)
				}
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

// writeRows writes the rows of one event: its metrics as generated, or, with
// f, as faults made it (the event, a suppressed one or a copy): a value a
// fault left out (drop, silence, omit) is empty, and every row of it names
// its faults. A delayed message stands at its tick's time.
func writeRows(rows rowRenderer, at time.Duration, ev generator.Event, f *generator.Event) error {
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
		if err := rows.Row(at, ev.App, m.Name, value, fault); err != nil {
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

// rowRenderer writes preview rows in one format. Row may buffer; Flush
// writes what is left. Not safe for concurrent use.
type rowRenderer interface {
	// Row writes one row; fault is its column, written only when the
	// config has faults.
	Row(elapsed time.Duration, app, metric, value, fault string) error
	Flush() error
}

// newRowRenderer returns the renderer of format ("" writes nothing). cfg,
// duration and the --interval override size the table's columns before the
// first row, so it streams. With faults, rows get a fault column.
func newRowRenderer(format string, w io.Writer, cfg *generator.Config, duration, interval time.Duration, faults bool) (rowRenderer, error) {
	switch format {
	case "":
		return discardRows{}, nil
	case "csv":
		r := &csvRows{w: csv.NewWriter(w), faults: faults}
		header := []string{"elapsed", "app", "metric", "value"}
		if faults {
			header = append(header, "fault")
		}
		return r, r.w.Write(header)
	case "json":
		return &jsonRows{enc: json.NewEncoder(w), faults: faults}, nil
	case "table":
		return newTableRows(w, cfg, duration, interval, faults)
	default:
		return nil, usagef("--format %q: must be one of %s", format, previewFormats)
	}
}

// seconds formats an elapsed time as a decimal number of seconds: 0, 10, 12.5.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

type discardRows struct{}

func (discardRows) Row(time.Duration, string, string, string, string) error { return nil }
func (discardRows) Flush() error                                            { return nil }

type csvRows struct {
	w      *csv.Writer
	faults bool
}

func (r *csvRows) Row(elapsed time.Duration, app, metric, value, fault string) error {
	if r.faults {
		return r.w.Write([]string{seconds(elapsed), app, metric, value, fault})
	}
	return r.w.Write([]string{seconds(elapsed), app, metric, value})
}

func (r *csvRows) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

type jsonRows struct {
	enc    *json.Encoder
	faults bool
}

// jsonRow is one line of --format json; elapsed is a JSON number. fault
// is there (empty or not) exactly when the config has faults.
type jsonRow struct {
	Elapsed json.Number `json:"elapsed"`
	App     string      `json:"app"`
	Metric  string      `json:"metric"`
	Value   string      `json:"value"`
	Fault   *string     `json:"fault,omitempty"`
}

func (r *jsonRows) Row(elapsed time.Duration, app, metric, value, fault string) error {
	row := jsonRow{Elapsed: json.Number(seconds(elapsed)), App: app, Metric: metric, Value: value}
	if r.faults {
		row.Fault = &fault
	}
	return r.enc.Encode(row)
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
	faults                  bool // a FAULT column after VALUE
	valueW                  int  // with faults: VALUE's width
}

func newTableRows(w io.Writer, cfg *generator.Config, duration, interval time.Duration, faults bool) (*tableRows, error) {
	t := &tableRows{w: w, appW: len("APP"), metricW: len("METRIC"), faults: faults, valueW: 12}
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
	if faults {
		_, err := fmt.Fprintf(w, "%*s  %-*s  %-*s  %-*s  %s\n", t.elapsedW, "ELAPSED", t.appW, "APP", t.metricW, "METRIC", t.valueW, "VALUE", "FAULT")
		return t, err
	}
	_, err := fmt.Fprintf(w, "%*s  %-*s  %-*s  %s\n", t.elapsedW, "ELAPSED", t.appW, "APP", t.metricW, "METRIC", "VALUE")
	return t, err
}

func (t *tableRows) elapsed(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', t.decimals, 64)
}

func (t *tableRows) Row(elapsed time.Duration, app, metric, value, fault string) error {
	if t.faults {
		_, err := fmt.Fprintf(t.w, "%*s  %-*s  %-*s  %-*s  %s\n", t.elapsedW, t.elapsed(elapsed), t.appW, app, t.metricW, metric, t.valueW, value, fault)
		return err
	}
	_, err := fmt.Fprintf(t.w, "%*s  %-*s  %-*s  %s\n", t.elapsedW, t.elapsed(elapsed), t.appW, app, t.metricW, metric, value)
	return err
}

func (t *tableRows) Flush() error { return nil }
