package judge

import (
	"time"

	"github.com/labsea/metricsender/generator"
)

// Autoscaler is a real autoscaler the judge holds to its own rules: the
// HorizontalPodAutoscaler of a cluster, read by the kubernetes feedback
// source. It scales deployments whose replicas nobody requests (their
// messages carry no value for the replicas target), so what it should do
// is computed from its spec, not read from a message.
type Autoscaler interface {
	// Calls returns the replicas that app ev.App's autoscaler would apply
	// for ev's values, sent at at, its replicas being current; judged is
	// false when the judge cannot hold it to account (none scales the
	// app, its spec is not supported, the value is missing). A call may
	// be remembered (stabilization windows). Safe for concurrent use.
	Calls(ev generator.Event, current float64, at time.Time) (replicas float64, judged bool)
	// Unjudged returns the apps an autoscaler scales but the judge does
	// not follow, each with why, for the report. Safe for concurrent use.
	Unjudged() map[string]string
}

// HPAHooks is told of each HPA request's fate, for metrics, as Hooks is of
// the others. Methods must be safe for concurrent use and must not block.
type HPAHooks interface {
	HPAOpened()
	HPAApplied(reaction time.Duration)
	HPASuperseded()
}

// requestsReplicas reports whether ev asks for replicas itself (a numeric
// value for the replicas target); then no autoscaler is judged on it.
func (t *Tracker) requestsReplicas(ev generator.Event) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rules[ev.App]
	for _, m := range ev.Metrics {
		if m.Value.HasNum && r.target(m.Name) == "replicas" {
			return true
		}
	}
	return false
}

// hpaCall opens, keeps or supersedes app's HPA request for calls
// replicas, observed being the replicas observed; t.mu is held. The
// rules are a replicas request's, compared exactly: at most one open, the
// same count called for again is the same request, another one (the
// observed count too) supersedes it.
func (t *Tracker) hpaCall(app string, calls, observed float64, at time.Time, id string) {
	k := reqKey{app: app, metric: "replicas", hpa: true}
	if open := t.open[k]; open != nil {
		if open.value == calls {
			return
		}
		t.supersede(k, open, at)
	}
	if calls == observed {
		return
	}
	t.open[k] = &request{value: calls, at: at, id: id}
	t.statsOf(k).requests++
	t.opened(k)
}

// The hooks of a request's fates, by kind.

func (t *Tracker) opened(k reqKey) {
	switch {
	case k.hpa && t.cfg.HPAHooks != nil:
		t.cfg.HPAHooks.HPAOpened()
	case !k.hpa && t.cfg.Hooks != nil:
		t.cfg.Hooks.Opened(k.metric)
	}
}

func (t *Tracker) applied(k reqKey, reaction time.Duration) {
	switch {
	case k.hpa && t.cfg.HPAHooks != nil:
		t.cfg.HPAHooks.HPAApplied(reaction)
	case !k.hpa && t.cfg.Hooks != nil:
		t.cfg.Hooks.Applied(k.metric, reaction)
	}
}

func (t *Tracker) superseded(k reqKey) {
	switch {
	case k.hpa && t.cfg.HPAHooks != nil:
		t.cfg.HPAHooks.HPASuperseded()
	case !k.hpa && t.cfg.Hooks != nil:
		t.cfg.Hooks.Superseded(k.metric)
	}
}
