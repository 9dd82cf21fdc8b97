package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
	"github.com/labsea/metricsender/live"
	"github.com/labsea/metricsender/telemetry"
)

func judgeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "report", EnvVars: env("report"),
			Usage: "with --feedback: write the operator's reaction report (per deployment and metric) to this JSON file at exit"},
		&cli.DurationFlag{Name: "max-reaction", EnvVars: env("max-reaction"),
			Usage: "with --feedback: exit 1 when a request took longer than this or is still open at the end (a --count run waits up to this for the last ones)"},
		&cli.DurationFlag{Name: "oscillation-window", Value: 5 * time.Minute, EnvVars: env("oscillation-window"),
			Usage: "with --feedback: a turn of the observed replicas within this window counts as an oscillation, unless the requested replicas turned the same way first (obedience)"},
	}
}

// judgeOptions are how send judges the operator under test (--feedback).
type judgeOptions struct {
	report            string
	maxReaction       time.Duration // 0: no limit
	oscillationWindow time.Duration
}

func judgeOptionsFrom(c *cli.Context, fb feedbackOptions) (judgeOptions, error) {
	o := judgeOptions{report: c.String("report"), maxReaction: c.Duration("max-reaction"), oscillationWindow: c.Duration("oscillation-window")}
	switch {
	case o.maxReaction < 0:
		return o, usagef("--max-reaction %s: must be > 0", o.maxReaction)
	case o.oscillationWindow <= 0:
		return o, usagef("--oscillation-window %s: must be > 0", o.oscillationWindow)
	case !fb.bus && !fb.api && fb.kube == nil && (o.report != "" || o.maxReaction > 0):
		return o, usagef("--report and --max-reaction judge the operator: they need --feedback")
	}
	return o, nil
}

// runningSchedule is the schedule as the rest of send sees it: judged
// (judge.Judged), and a reload applies a config to its injector too.
type runningSchedule struct {
	judge.Judged
	inj *generator.Injector
}

// addJudge gives a send with feedback its judge: correlation ids, metrics
// on reg, fates told to fates and, with hpa (--feedback kubernetes), the
// cluster's HPAs, whose reactions are judged too.
func (r *runningSchedule) addJudge(opts sendOptions, reg prometheus.Registerer, metrics *sendMetrics, hpa judge.Autoscaler, fates judge.Fates) error {
	cfg := judge.TrackerConfig{Config: opts.cfg,
		OscillationWindow: opts.judge.oscillationWindow, Hooks: metrics.Judged(telemetry.NewReaction(reg)), Fates: fates}
	if hpa != nil {
		cfg.Autoscaler = hpa
		cfg.HPAHooks = telemetry.NewHPAReaction(reg, func() int { return len(hpa.Unjudged()) })
	}
	t, err := judge.NewTracker(r.Schedule, cfg)
	if err != nil {
		return err
	}
	telemetry.RegisterOldestOpen(reg, t.OldestOpen, time.Now)
	r.Judged = judge.NewJudged(r.Schedule, t)
	return nil
}

// Apply applies cfg to the schedule and the judge and, when that worked,
// to the injector's faults.
func (r runningSchedule) Apply(cfg *generator.Config) (generator.ApplyResult, error) {
	res, err := r.Judged.Apply(cfg)
	if err == nil {
		r.inj.SetConfig(cfg)
	}
	return res, err
}

// judgeRun ends a run with feedback: a --count run's natural end waits until
// no request is open or --max-reaction passed since the newest (a signal
// skips the wait, not the judging); then the summary line on stderr (and
// the live page), the report file, and an error (exit 1) when one was late.
func judgeRun(ctx context.Context, t *judge.Tracker, opts judgeOptions, natural bool, stderr io.Writer, page *live.Hub) error {
	rep := t.End(ctx, opts.maxReaction, natural)
	fmt.Fprintln(stderr, rep.Line())
	page.Ended(rep)
	if opts.report != "" {
		if err := rep.WriteFile(opts.report); err != nil {
			return fmt.Errorf("--report %s: %w", opts.report, err)
		}
	}
	if opts.maxReaction > 0 && rep.AllLate() > 0 {
		if rep.HPA != nil && rep.HPA.Late > 0 {
			return fmt.Errorf("the operator was late: %d requests and %d HPA requests took longer than --max-reaction %s or are still open", rep.Late, rep.HPA.Late, opts.maxReaction)
		}
		return fmt.Errorf("the operator was late: %d requests took longer than --max-reaction %s or are still open", rep.Late, opts.maxReaction)
	}
	return nil
}
