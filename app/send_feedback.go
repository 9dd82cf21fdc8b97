package app

import (
	"slices"
	"strings"

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
		&cli.Float64Flag{Name: "hpa-tolerance", Value: kube.DefaultHPATolerance, EnvVars: env("hpa-tolerance"),
			Usage: "with --feedback kubernetes: the cluster's --horizontal-pod-autoscaler-tolerance, for judging its HPAs"},
		&cli.DurationFlag{Name: "hpa-downscale-stabilization", Value: kube.DefaultHPADownscaleStabilization, EnvVars: env("hpa-downscale-stabilization"),
			Usage: "with --feedback kubernetes: the cluster's --horizontal-pod-autoscaler-downscale-stabilization, for judging its HPAs"},
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
		tol, stab := c.Float64("hpa-tolerance"), c.Duration("hpa-downscale-stabilization")
		switch {
		case tol < 0 || tol >= 1:
			return feedbackOptions{}, usagef("--hpa-tolerance %g: must be in [0, 1)", tol)
		case stab < 0:
			return feedbackOptions{}, usagef("--hpa-downscale-stabilization %s: must be >= 0", stab)
		}
		opts.kube.HPATolerance, opts.kube.HPADownscaleStabilization = &tol, &stab
		if err := opts.kube.Validate(); err != nil {
			return feedbackOptions{}, usagef("--kube-namespace, --kube-selector: %w", err)
		}
	}
	if _, err := feedback.TopicPrefix(opts.topic); err != nil {
		return feedbackOptions{}, usagef("--feedback-topic: %w", err)
	}
	return opts, nil
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
		a.src.SetDeployments(a.shard.Deployments(cfg))
	}
	return res, err
}
