package app

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/feedback/kube"
	"github.com/labsea/metricsender/generator"
)

// The feedback sources of --feedback.
const (
	feedbackBus        = "bus"
	feedbackAPI        = "api"
	feedbackKubernetes = "kubernetes"
)

// feedbackSource is one value of --feedback; built is false for a source
// that is not there yet.
type feedbackSource struct {
	name  string
	built bool
}

// feedbackSources are the values --feedback knows; those not built yet are
// refused with a usage error that says so.
var feedbackSources = []feedbackSource{
	{feedbackAPI, true},
	{feedbackBus, true},
	{feedbackKubernetes, true},
}

func feedbackFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "feedback", EnvVars: env("feedback"), DefaultText: "none (open loop)",
			Usage: "where observed state comes from: bus (Allocation.* messages on the broker), api (PUT /v1/deployments/{name}/state), kubernetes (the Deployments and StatefulSets of --kube-namespace); repeatable or comma-separated"},
		&cli.StringFlag{Name: "feedback-topic", Value: feedback.DefaultTopic, EnvVars: env("feedback-topic"),
			Usage: "with --feedback bus: the pattern subscribed, words then * or # (the app follows the prefix: Allocation.web)"},
		&cli.StringFlag{Name: "kube-namespace", EnvVars: env("kube-namespace"), DefaultText: "the pod's own in a cluster, else the kubeconfig context's",
			Usage: "with --feedback kubernetes: the namespace whose Deployments and StatefulSets are read"},
		&cli.StringFlag{Name: "kube-selector", EnvVars: env("kube-selector"), DefaultText: "all",
			Usage: "with --feedback kubernetes: a label selector narrowing the workloads read (team=web,tier!=db)"},
		&cli.StringFlag{Name: "kubeconfig", EnvVars: env("kubeconfig"), DefaultText: "in a pod the in-cluster config, else KUBECONFIG, else ~/.kube/config",
			Usage: "with --feedback kubernetes: the kubeconfig file of the cluster to read"},
	}
}

// feedbackOptions are --feedback and --feedback-topic, checked.
type feedbackOptions struct {
	bus, api bool
	topic    string
	kube     *kube.Config // nil without --feedback kubernetes
}

// feedbackOptionsFrom reads --feedback (any combination, repeatable,
// comma-separated, each value once) and --feedback-topic. An unknown
// source, one not built yet, or a topic that is no feedback pattern is a
// usage error.
func feedbackOptionsFrom(c *cli.Context) (feedbackOptions, error) {
	opts := feedbackOptions{topic: c.String("feedback-topic")}
	known := make([]string, 0, len(feedbackSources))
	for _, s := range feedbackSources {
		if s.built {
			known = append(known, s.name)
		}
	}
	for _, raw := range c.StringSlice("feedback") {
		for _, v := range strings.Split(raw, ",") {
			v = strings.TrimSpace(v)
			i := slices.IndexFunc(feedbackSources, func(s feedbackSource) bool { return s.name == v })
			switch {
			case v == "":
				continue
			case i < 0:
				return feedbackOptions{}, usagef("--feedback %q: unknown source (one of %s)", v, strings.Join(known, ", "))
			case !feedbackSources[i].built:
				return feedbackOptions{}, usagef("--feedback %s: not built yet (available: %s)", v, strings.Join(known, ", "))
			}
			switch v {
			case feedbackBus:
				opts.bus = true
			case feedbackAPI:
				opts.api = true
			case feedbackKubernetes:
				opts.kube = &kube.Config{}
			}
		}
	}
	if opts.kube != nil {
		opts.kube.Namespace, opts.kube.Selector, opts.kube.Kubeconfig = c.String("kube-namespace"), c.String("kube-selector"), c.String("kubeconfig")
		if err := opts.kube.Validate(); err != nil {
			return feedbackOptions{}, usagef("--kube-namespace, --kube-selector: %w", err)
		}
	}
	if _, err := feedback.TopicPrefix(opts.topic); err != nil {
		return feedbackOptions{}, usagef("--feedback-topic: %w", err)
	}
	return opts, nil
}

// runBus runs bus until ctx ends, in the background; the returned wait
// blocks until it has.
func runBus(ctx context.Context, bus *feedback.Bus, logger *slog.Logger) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := bus.Run(ctx); err != nil && ctx.Err() == nil {
			logger.Error("feedback stopped", "error", err)
		}
	}()
	return func() { <-done }
}

// startKube runs the kubernetes feedback source into rec until ctx ends
// and waits for its first sync, bounded by timeout when > 0: so the first
// tick's values reflect the cluster. A sync that does not come in time is
// a warning (the state holds and /readyz says why), not an error. The
// returned wait blocks until the source has stopped.
func startKube(ctx context.Context, cfg kube.Config, deployments []generator.Deployment, rec generator.Recorder,
	timeout time.Duration, logger *slog.Logger) (src *kube.Source, wait func(), err error) {
	cfg.Deployments = deployments
	src, err = kube.New(cfg, rec, logger)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx)
	}()
	wait = func() { <-done }
	syncCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		syncCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	logger.Info("feedback kubernetes: waiting for the first list", "namespace", src.Namespace())
	if err := src.WaitSynced(syncCtx); err != nil && ctx.Err() == nil {
		logger.Warn("feedback kubernetes: no first list in --connect-timeout; starting from the file's state", "error", err)
	}
	return src, wait, nil
}

// kubeApplier tells the kubernetes source of the deployments a reload
// applied (this shard's).
type kubeApplier struct {
	applier
	src   *kube.Source
	shard generator.Shard
}

func (a kubeApplier) Apply(cfg *generator.Config) (generator.ApplyResult, error) {
	res, err := a.applier.Apply(cfg)
	if err == nil {
		a.src.SetDeployments(ownDeployments(cfg, a.shard))
	}
	return res, err
}

// ownDeployments are the deployments of cfg that shard sends: the only
// ones the kubernetes source maps, so other shards' workloads are not
// even looked at.
func ownDeployments(cfg *generator.Config, shard generator.Shard) []generator.Deployment {
	if !shard.Sharded() {
		return cfg.Deployments
	}
	out := make([]generator.Deployment, 0, len(cfg.Deployments)/shard.Count+1)
	for _, d := range cfg.Deployments {
		if shard.Owns(d.Name) {
			out = append(out, d)
		}
	}
	return out
}

var _ generator.Recorder = (*heldRecorder)(nil)

// heldRecorder holds the observations made before the schedule exists (the
// kubernetes source's first list) and passes them on, in order, once set
// gives it the recorder; after that it forwards. Safe for concurrent use.
type heldRecorder struct {
	mu   sync.Mutex
	rec  generator.Recorder
	held []heldObservation
}

type heldObservation struct {
	app string
	ob  generator.Observation
}

// Observe implements generator.Recorder: it forwards, or holds until set.
func (h *heldRecorder) Observe(app string, ob generator.Observation) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rec == nil {
		h.held = append(h.held, heldObservation{app, ob})
		return nil
	}
	return h.rec.Observe(app, ob)
}

// set records what was held into rec (a failure is logged: the source
// already took it as recorded) and forwards from now on.
func (h *heldRecorder) set(rec generator.Recorder, logger *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.held {
		if err := rec.Observe(o.app, o.ob); err != nil {
			logger.Warn("feedback kubernetes: an observation of the first list was not recorded", "app", o.app, "error", err)
		}
	}
	h.rec, h.held = rec, nil
}
