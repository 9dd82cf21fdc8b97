package preview

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
)

// Options is one preview: what `metricsender preview`'s flags say, with
// the config loaded and the seed chosen. Validate says what is wrong.
type Options struct {
	Config   *generator.Config // required
	Duration time.Duration     // the ticks in [0, Duration) are previewed; > 0
	Interval time.Duration     // overrides the config's interval; 0: the config's
	Seed     int64             // of every random value; the caller picks one when the user gave none
	Format   string            // of the rows: one of Formats, or "" for no rows (a plot alone)
	Operator *policy.Spec      // the stand-in operator on the virtual clock; nil: none
	Plot     string            // a .svg or .png path to draw into; "": no plot
	Shard    generator.Shard   // the deployments to preview; the zero value: all
}

// Formats are the row formats, as `--format` lists them.
func Formats() []string { return []string{"table", "csv", "json"} }

// CheckFormat returns an *InputError unless format is one of Formats.
func CheckFormat(format string) error {
	if !slices.Contains(Formats(), format) {
		return inputf("--format %q: must be one of %s", format, strings.Join(Formats(), ", "))
	}
	return nil
}

// PlotFormat tells the image format of a plot path by its extension:
// "svg" or "png" (in any case), else an *InputError.
func PlotFormat(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg", ".png":
		return ext[1:], nil
	default:
		return "", inputf("--plot %s: unknown image format %q (use .svg or .png)", path, ext)
	}
}

// Validate reports every problem of o, joined, as an *InputError.
func (o Options) Validate() error {
	var errs []error
	if o.Config == nil {
		errs = append(errs, errors.New("no config"))
	}
	if o.Duration <= 0 {
		errs = append(errs, fmt.Errorf("--duration %s: must be > 0", o.Duration))
	}
	if o.Interval < 0 {
		errs = append(errs, fmt.Errorf("--interval %s: must be > 0", o.Interval))
	}
	if o.Format != "" {
		errs = append(errs, CheckFormat(o.Format))
	}
	if o.Plot != "" {
		_, err := PlotFormat(o.Plot)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return &InputError{err}
	}
	return nil
}

// InputError is a preview that cannot be made from its options or its
// config (an invalid option, a config that cannot be scheduled, nothing
// numeric to plot), as opposed to a failed write or a cancelled run. The
// command line exits with status 2 on one. Its text is Err's.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, a ...any) error { return &InputError{fmt.Errorf(format, a...)} }

// Run runs the schedule of opts.Config on a virtual clock over
// [0, opts.Duration) and writes one row per metric of every event to stdout
// in opts.Format (none when it is empty), streaming; with opts.Plot it also
// draws the numeric metrics into that file. Notes for the user (what the
// plot leaves out, how many expressions failed) go to stderr. Deployments
// keep the state of their config (`state:`), unless opts.Operator changes
// it: a preview has no other feedback. It returns ctx.Err() when ctx is
// cancelled, and an *InputError when opts are invalid, the config cannot
// be scheduled or nothing numeric is left to plot.
func Run(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	var exprErrors, pending int // pending: in the batch Next is taking
	var firstExprError string
	start := time.Unix(0, 0).UTC()
	sched, err := generator.NewSchedule(opts.Config, generator.ScheduleOptions{
		Start:    start,
		Run:      "preview",
		Seed:     opts.Seed,
		Shard:    opts.Shard,
		Interval: opts.Interval,
		OnModelError: func(app, metric string, err error) {
			if pending++; exprErrors+pending == 1 {
				firstExprError = fmt.Sprintf("%s.%s: %v", app, metric, err)
			}
		},
	})
	if err != nil {
		return &InputError{fmt.Errorf("schedule: %w", err)}
	}
	defer func() {
		if exprErrors > 0 {
			fmt.Fprintf(stderr, "expression errors: %d (each sent the metric's previous value); the first: %s\n", exprErrors, firstExprError)
		}
	}()
	out := bufio.NewWriterSize(stdout, 64<<10)
	faults := opts.Config.HasFaults()
	var op *operator
	if opts.Operator != nil {
		op = newOperator(*opts.Operator, sched, start)
	}
	rows, err := newRowRenderer(opts.Format, out, opts.Config, opts.Duration, opts.Interval, rowColumns{replicas: op != nil, fault: faults})
	if err != nil {
		return err
	}
	var plot *plotData
	if opts.Plot != "" {
		plot = newPlotData(ownedBy(opts.Config, opts.Shard), opts.Duration, maxPlotLines)
		if opts.Operator != nil {
			plot.withReplicas(opts.Duration)
		}
	}
	var inj *generator.Injector
	var last func(generator.Event) bool
	if faults {
		inj = generator.NewInjector(opts.Config, opts.Seed, 0)
		last = lastTickIn(opts.Config, opts.Interval, opts.Duration)
	}
	var faulted []generator.Event
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pending = 0
		b, ok := sched.Next()
		if !ok || b.At >= opts.Duration {
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
	return plot.save(opts.Plot, opts.Duration, stderr)
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
		row := metricRow{elapsed: at, app: ev.App, metric: m.Name, value: value, replicas: replicas, fault: fault}
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
