package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/throttle"
)

// ErrNotSynced is returned (wrapped) by Ready until every informer has
// delivered its first list, and by WaitSynced when its context ends first.
var ErrNotSynced = errors.New("kubernetes feedback: waiting for the first list")

// Source is the kubernetes feedback source: shared informers on the
// Deployments and StatefulSets of one namespace that turn what they see
// into Observations (Source "kubernetes"). Only the kinds the deployments
// map to are watched. A value is observed when it changes (and once for
// every deployment, at the first list or when it is new to the source), so
// a field another source set holds until the workload's own changes.
//
// When the API server is unreachable or refuses (a Role without watch,
// say), a throttled warning says why, Ready returns the reason, the
// informers retry with backoff, and the last observed state holds.
// Its methods are safe for concurrent use.
type Source struct {
	obs       generator.Recorder
	logger    *slog.Logger
	client    Client
	namespace string
	selector  string
	resync    time.Duration
	warn      *throttle.Warning // the cluster cannot be read
	mapWarn   *throttle.Warning // a workload cannot be read for a deployment
	hpaWarn   *throttle.Warning // the HPAs cannot be read

	mu        sync.Mutex
	targets   map[objKey][]target
	byApp     map[string]target
	last      map[string]values // by app: what was last observed
	informers map[string]*informer
	ctx       context.Context  // Run's; nil before
	faults    map[string]error // by "kind verb": the last list or watch error

	// The HPAs (hpa.go): read to judge their reactions, never needed for
	// the workloads; a failure to read them is logged, kept in hpaFaults
	// (not in faults: /readyz does not wait for them) and reported by
	// Unjudged.
	hpaInf      *informer
	hpaDefaults hpaDefaults
	hpaFaults   map[string]error // as faults, of the HPAs
	hpaMu       sync.Mutex
	hpaApps     map[string]*appHPA // by app; guarded by hpaMu
}

// informer watches one kind.
type informer struct {
	kind, resource string
	inf            cache.SharedIndexInformer
	reg            cache.ResourceEventHandlerRegistration
}

// New returns a Source for cfg that reports to obs (nil logger: discard).
// It resolves the client config (see Config) but does not contact the API
// server: Run does. It fails on an invalid cfg or when no client config
// can be had.
func New(cfg Config, obs generator.Recorder, logger *slog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kubernetes feedback config: %w", err)
	}
	if obs == nil {
		return nil, errors.New("kubernetes feedback config: nil Recorder")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	client, ns, err := cfg.client()
	if err != nil {
		return nil, fmt.Errorf("kubernetes feedback: %w", err)
	}
	logger = logger.With("feedback", SourceName, "namespace", ns)
	s := &Source{
		obs: obs, logger: logger, client: client, namespace: ns, selector: cfg.Selector, resync: cfg.Resync,
		warn: throttle.New(logger, throttle.Config{
			Message:  "kubernetes feedback: cannot read the cluster; the last known state holds",
			CountKey: "failures", KeysKey: "requests",
		}),
		hpaWarn: throttle.New(logger, throttle.Config{
			Message:  "kubernetes feedback: cannot read the HPAs; their reactions are not judged",
			CountKey: "failures", KeysKey: "requests",
		}),
		mapWarn: throttle.New(logger, throttle.Config{
			Message:  "kubernetes feedback: cannot read a workload for a deployment",
			CountKey: "problems", KeysKey: "deployments",
		}),
		last:        map[string]values{},
		informers:   map[string]*informer{},
		faults:      map[string]error{},
		hpaFaults:   map[string]error{},
		hpaApps:     map[string]*appHPA{},
		hpaDefaults: cfg.hpaDefaults(),
	}
	s.hpaInf = s.newInformer(kindHPA)
	s.setTargets(cfg.Deployments)
	return s, nil
}

// Namespace is the namespace watched.
func (s *Source) Namespace() string { return s.namespace }

// Run starts the informers and blocks until ctx ends; then they stop. It
// returns nil, and an error only when called twice.
func (s *Source) Run(ctx context.Context) error {
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(s.logger.Handler()))
	s.mu.Lock()
	if s.ctx != nil {
		s.mu.Unlock()
		return errors.New("kubernetes feedback: Run called twice")
	}
	s.ctx = ctx
	for _, in := range s.informers {
		go in.inf.RunWithContext(ctx)
	}
	go s.hpaInf.inf.RunWithContext(ctx)
	s.mu.Unlock()
	s.logger.Info("kubernetes feedback: watching", "kinds", s.kinds(), "selector", s.selector)
	<-ctx.Done()
	s.warn.Flush()
	s.mapWarn.Flush()
	s.hpaWarn.Flush()
	return nil
}

// WaitSynced blocks until every informer has delivered its first list (so
// the first tick's values reflect the cluster; the HPAs' too, unless
// reading them failed), or ctx ends: then it
// returns an error wrapping ErrNotSynced and saying why. Run must be
// running.
func (s *Source) WaitSynced(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if s.synced() {
			return nil
		}
		select {
		case <-ctx.Done():
			err := s.Ready()
			if errors.Is(err, ErrNotSynced) {
				return err
			}
			return fmt.Errorf("%w: %w", ErrNotSynced, err)
		case <-t.C:
		}
	}
}

// Ready returns nil once every informer has synced and while no list or
// watch fails; else the reason, for /readyz.
func (s *Source) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if keys := slices.Sorted(maps.Keys(s.faults)); len(keys) > 0 {
		return s.faults[keys[0]]
	}
	for _, kind := range s.kindsLocked() {
		in := s.informers[kind]
		if !in.reg.HasSynced() {
			return fmt.Errorf("%w of %s in namespace %q", ErrNotSynced, in.resource, s.namespace)
		}
	}
	return nil
}

func (s *Source) synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.informers {
		if !in.reg.HasSynced() {
			return false
		}
	}
	return s.hpaInf.reg.HasSynced() || len(s.hpaFaults) > 0
}

// SetDeployments replaces the deployments mapped (after a reload: call it
// once the schedule has the new config). A deployment new to the source,
// or mapped elsewhere now, is observed at once from what the informers
// hold; a kind no deployment needed before starts being watched.
func (s *Source) SetDeployments(ds []generator.Deployment) {
	s.mu.Lock()
	old := s.byApp
	s.setTargets(ds)
	var fresh []target
	for app, t := range s.byApp {
		if o, ok := old[app]; !ok || !o.same(t) {
			delete(s.last, app)
			fresh = append(fresh, t)
		}
	}
	for app := range s.last {
		if _, ok := s.byApp[app]; !ok {
			delete(s.last, app)
		}
	}
	s.mu.Unlock()
	s.resolveHPAs()
	for _, t := range fresh {
		in := s.informer(t.key.kind)
		if in == nil {
			continue
		}
		if obj, ok, _ := in.inf.GetStore().GetByKey(s.namespace + "/" + t.key.name); ok {
			s.seen(obj)
		}
	}
}

// setTargets indexes ds and makes the informers they need (started when
// Run is running). s.mu is held, or s is new.
func (s *Source) setTargets(ds []generator.Deployment) {
	s.targets = make(map[objKey][]target, len(ds))
	s.byApp = make(map[string]target, len(ds))
	for _, d := range ds {
		t := targetOf(d)
		s.targets[t.key] = append(s.targets[t.key], t)
		s.byApp[t.app] = t
		if s.informers[t.key.kind] == nil {
			in := s.newInformer(t.key.kind)
			s.informers[t.key.kind] = in
			if s.ctx != nil {
				go in.inf.RunWithContext(s.ctx)
			}
		}
	}
}

func (s *Source) informer(kind string) *informer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.informers[kind]
}

func (s *Source) kinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kindsLocked()
}

func (s *Source) kindsLocked() []string { return slices.Sorted(maps.Keys(s.informers)) }

// seen observes what changed in the workload obj for the deployments
// mapped to it.
func (s *Source) seen(obj any) {
	w, ok := workloadOf(obj)
	if !ok {
		return
	}
	s.mu.Lock()
	targets := s.targets[w.key]
	type pending struct {
		app  string
		ob   generator.Observation
		now  values
		last *values
	}
	var todo []pending
	for _, t := range targets {
		v, problem := read(w, t)
		if problem != "" {
			s.mapWarn.Warn(t.app, "app", t.app, "kind", w.key.kind, "name", w.key.name, "problem", problem)
		}
		var last *values
		if l, ok := s.last[t.app]; ok {
			last = &l
		}
		if ob, changed := v.observation(last); changed {
			todo = append(todo, pending{t.app, ob, v.merge(last), last})
		}
	}
	s.mu.Unlock()
	hpa := false
	for _, t := range targets {
		hpa = hpa || s.hasHPA(t.app)
	}
	if hpa {
		s.resolveHPAs() // a Utilization target follows the requests
	}
	now := time.Now()
	for _, p := range todo {
		if p.last != nil && p.ob.HasReplicas && p.last.replicas != p.ob.Replicas {
			s.hpaScaled(p.app, now, p.last.replicas, p.ob.Replicas)
		}
		err := s.obs.Observe(p.app, p.ob)
		switch {
		case errors.Is(err, generator.ErrUnknownDeployment):
			// A reload removed it; SetDeployments will follow.
			s.logger.Debug("kubernetes feedback: deployment gone", "app", p.app)
			continue
		case err != nil:
			s.mapWarn.Warn(p.app, "app", p.app, "kind", w.key.kind, "name", w.key.name, "problem", err.Error())
			continue
		}
		s.logger.Debug("kubernetes feedback: observed", "app", p.app, "kind", w.key.kind, "name", w.key.name,
			"replicas", p.now.replicas, "ready", p.now.ready, "allocation", p.now.allocation)
		s.mu.Lock()
		if _, mapped := s.byApp[p.app]; mapped {
			s.last[p.app] = p.now
		}
		s.mu.Unlock()
	}
}

// deleted logs that a mapped workload is gone; its last state holds.
func (s *Source) deleted(obj any) {
	w, ok := workloadOf(obj)
	if !ok {
		return
	}
	s.mu.Lock()
	n := len(s.targets[w.key])
	s.mu.Unlock()
	if n > 0 {
		s.logger.Info("kubernetes feedback: workload deleted; the last known state holds",
			"kind", w.key.kind, "name", w.key.name, "deployments", n)
	}
}
