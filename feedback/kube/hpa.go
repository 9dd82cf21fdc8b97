package kube

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/client-go/tools/cache"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
)

// kindHPA is the informer key of the HorizontalPodAutoscalers.
const kindHPA = "HorizontalPodAutoscaler"

// DefaultHPATolerance and DefaultHPADownscaleStabilization are
// kube-controller-manager's defaults of the settings an HPA's spec does
// not carry (--horizontal-pod-autoscaler-tolerance and
// --horizontal-pod-autoscaler-downscale-stabilization).
const (
	DefaultHPATolerance              = 0.1
	DefaultHPADownscaleStabilization = 5 * time.Minute
)

// appHPA is the HPA that targets one app's workload, as the judge follows
// it.
type appHPA struct {
	hpa    string // its name
	reason string // why it is not followed; "" when it is
	cfg    policy.HPAConfig
	stand  *policy.HPA // follows it; its memory survives spec changes
	said   string      // what the log last said of it
}

// Calls is what the HPA that targets app's workload would apply for ev's
// values sent at at, the workload's replicas being current: policy.HPA's
// Recommend on the HPA's spec (see hpaConfig). judged is false when no HPA
// targets app's workload, its spec is not followed (Unjudged says why),
// the HPAs are not listed yet, or ev lacks the HPA's metric. Each call is
// one sync of the controller's memory (the stabilization windows); the
// rescales the controller makes are recorded as the source observes them.
// Safe for concurrent use; it implements the judge's Autoscaler.
func (s *Source) Calls(ev generator.Event, current float64, at time.Time) (replicas float64, judged bool) {
	s.hpaMu.Lock()
	defer s.hpaMu.Unlock()
	a := s.hpaApps[ev.App]
	if a == nil || a.reason != "" || !s.hpaInf.reg.HasSynced() {
		return 0, false
	}
	req := policy.RequestOf(ev)
	req.At = at
	d := a.stand.Recommend(req, current)
	return d.Replicas, d.HasReplicas
}

// Unjudged returns the apps whose workload an HPA targets that the judge
// does not follow, each with why ("HPA web: target type Value: ..."),
// and, while the HPAs cannot be read, "*" with that reason. Safe for
// concurrent use; it implements the judge's Autoscaler.
func (s *Source) Unjudged() map[string]string {
	out := map[string]string{}
	s.hpaMu.Lock()
	for app, a := range s.hpaApps {
		if a.reason != "" {
			out[app] = "HPA " + a.hpa + ": " + a.reason
		}
	}
	s.hpaMu.Unlock()
	s.mu.Lock()
	if keys := slices.Sorted(maps.Keys(s.hpaFaults)); len(keys) > 0 {
		out["*"] = s.hpaFaults[keys[0]].Error()
	}
	s.mu.Unlock()
	return out
}

// hpaScaled records a rescale of app's workload, observed at at, in the
// memory of the HPA that follows it (the behavior policies' periods).
func (s *Source) hpaScaled(app string, at time.Time, prev, next float64) {
	s.hpaMu.Lock()
	defer s.hpaMu.Unlock()
	if a := s.hpaApps[app]; a != nil && a.stand != nil {
		a.stand.Scaled(app, at, prev, next)
	}
}

// hasHPA reports whether an HPA targets app's workload.
func (s *Source) hasHPA(app string) bool {
	s.hpaMu.Lock()
	defer s.hpaMu.Unlock()
	return s.hpaApps[app] != nil
}

// resolveHPAs finds, for every app, the HPA that targets its workload and
// converts its spec, after any change of the HPAs, of the deployments
// mapped, or of a workload an HPA targets (its requests). A change of what
// is followed takes effect from the next Calls, and is logged once: Info
// when an HPA is followed, Warn when it is not and why.
func (s *Source) resolveHPAs() {
	byTarget := map[objKey][]*autoscalingv2.HorizontalPodAutoscaler{}
	for _, obj := range s.hpaInf.inf.GetStore().List() {
		h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			continue
		}
		ref := h.Spec.ScaleTargetRef
		if g, _, _ := strings.Cut(ref.APIVersion, "/"); g != "apps" && ref.APIVersion != "" {
			continue
		}
		k := objKey{ref.Kind, ref.Name}
		byTarget[k] = append(byTarget[k], h)
	}
	type found struct {
		hpa, reason string
		cfg         policy.HPAConfig
	}
	next := map[string]found{}
	s.mu.Lock()
	for k, hs := range byTarget {
		ts := s.targets[k]
		if len(ts) == 0 {
			continue
		}
		var w *workload
		if in := s.informers[k.kind]; in != nil {
			if obj, ok, _ := in.inf.GetStore().GetByKey(s.namespace + "/" + k.name); ok {
				if wl, ok := workloadOf(obj); ok {
					w = &wl
				}
			}
		}
		slices.SortFunc(hs, func(a, b *autoscalingv2.HorizontalPodAutoscaler) int { return cmp.Compare(a.Name, b.Name) })
		for _, t := range ts {
			if len(hs) > 1 {
				names := make([]string, len(hs))
				for i, h := range hs {
					names[i] = h.Name
				}
				next[t.app] = found{hpa: strings.Join(names, ", "),
					reason: fmt.Sprintf("%d HPAs target %s %s: the controller scales it with none of them (AmbiguousSelector)", len(hs), k.kind, k.name)}
				continue
			}
			cfg, err := hpaConfig(hs[0], t.app, t.metrics, w, s.hpaDefaults)
			f := found{hpa: hs[0].Name, cfg: cfg}
			if err != nil {
				f.reason = err.Error()
			}
			next[t.app] = f
		}
	}
	s.mu.Unlock()

	s.hpaMu.Lock()
	defer s.hpaMu.Unlock()
	for _, app := range slices.Sorted(maps.Keys(s.hpaApps)) {
		if _, ok := next[app]; !ok {
			s.logger.Info("kubernetes feedback: no HPA targets the workload any more; its reactions are no longer judged", "app", app, "hpa", s.hpaApps[app].hpa)
			delete(s.hpaApps, app)
		}
	}
	for _, app := range slices.Sorted(maps.Keys(next)) {
		f := next[app]
		a := s.hpaApps[app]
		if a == nil || a.hpa != f.hpa {
			a = &appHPA{hpa: f.hpa}
			s.hpaApps[app] = a
		}
		a.reason, a.cfg = f.reason, f.cfg
		if f.reason == "" {
			if a.stand == nil {
				a.stand = &policy.HPA{}
			}
			a.stand.HPAConfig = f.cfg // keeps the memory, as the controller keeps it per HPA
		}
		say := a.reason
		if say == "" {
			say = describe(f.cfg)
		}
		if say == a.said {
			continue
		}
		a.said = say
		if a.reason != "" {
			s.logger.Warn("kubernetes feedback: the HPA's reactions are not judged", "app", app, "hpa", a.hpa, "reason", a.reason)
		} else {
			s.logger.Info("kubernetes feedback: judging the HPA's reactions", "app", app, "hpa", a.hpa, "follows", say)
		}
	}
}

// describe is an HPA configuration as preview's spec keys write it.
func describe(c policy.HPAConfig) string {
	out := fmt.Sprintf("metric=%s,source=%s,target=%g,min=%g,max=%g,tolerance=%g", c.Metric, c.Source, c.Target, c.Min, c.Max, c.Tolerance)
	if c.Behavior == nil {
		return out + ",stabilization=" + c.Stabilization.String()
	}
	for _, d := range []struct {
		key string
		r   policy.Rules
	}{{"up", c.Behavior.ScaleUp}, {"down", c.Behavior.ScaleDown}} {
		ps := make([]string, len(d.r.Policies))
		for i, p := range d.r.Policies {
			ps[i] = p.String()
		}
		out += fmt.Sprintf(",%s=%s,%sSelect=%s", d.key, strings.Join(ps, "+"), d.key, cmp.Or(d.r.Select, policy.SelectMax))
		w := c.Stabilization
		if d.r.Window != nil {
			w = *d.r.Window
		} else if d.key == "up" {
			w = 0
		}
		out += fmt.Sprintf(",%sWindow=%s", d.key, w)
	}
	return out
}

// hpaHandlers re-resolve on every change of an HPA.
func (s *Source) hpaHandlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.resolveHPAs() },
		UpdateFunc: func(_, _ any) { s.resolveHPAs() },
		DeleteFunc: func(any) { s.resolveHPAs() },
	}
}
