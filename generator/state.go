package generator

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"time"
)

// dep is the live state of one deployment.
type dep struct {
	name     string
	index    int // position in the current config: order within a batch
	interval time.Duration
	phase    time.Duration
	metrics  []*metric // sorted by name
	seq      uint64    // messages sent; never reset in a run
	paused   bool
	done     bool      // has sent Count messages
	g        *group    // the grid it ticks on; nil when done
	obs      *observed // nil: defaultObserved (see observed, own)
}

// observed is d's observed state, for reading.
func (d *dep) observed() *observed {
	if d.obs == nil {
		return defaultObserved
	}
	return d.obs
}

// own is d's observed state, for changing: the first change gives d a
// copy of the defaults of its own.
func (d *dep) own() *observed {
	if d.obs == nil {
		d.obs = newObservedFrom(defaultState)
	}
	return d.obs
}

// metric is the live state of one metric of a deployment.
type metric struct {
	name    string
	spec    any
	model   Model     // from the config
	over    *override // set by Override; nil when none
	last    Value
	hasLast bool
	// reads says that model is a StateModel, so a tick asserts the
	// interface only for it.
	reads bool
	// pcg is the state of Stream(seed, deployment, metric) for the whole
	// run; the metric draws from it through Schedule.draw.
	pcg rand.PCG
}

// override is what Override set on a metric: apart, since few metrics
// have one and 150,000 deployments' metrics would each carry its room.
type override struct {
	model Model
	spec  any  // what Override was given, for Snapshot
	reads bool // model is a StateModel
}

// initMetric makes *m the state of metric sp, new to deployment d. The
// model is cloned so the schedule owns its state (a config may be run twice).
func (s *Schedule) initMetric(m *metric, d string, sp MetricSpec) {
	*m = metric{name: sp.Name, spec: specOf(sp)}
	m.model, m.reads = s.bind(CloneModel(sp.Model), d, sp.Name)
	m.pcg.Seed(streamSeeds(s.seed, d, sp.Name))
}

// bind binds model to (deployment, metric) when it is a StateModel, and
// says whether it is one.
func (s *Schedule) bind(model Model, deployment, metric string) (Model, bool) {
	sm, ok := model.(StateModel)
	if ok {
		sm.Bind(s.seed, deployment, metric)
	}
	return model, ok
}

// ApplyResult names the deployments a new config added, removed and changed
// (interval or metrics), each list in config order (Removed sorted by name).
type ApplyResult struct {
	Added, Removed, Changed []string
}

// Apply switches the schedule to cfg without restarting it (hot reload):
//   - a new deployment starts at its first grid point after the last batch
//     taken (and, under Run, not before now); it joins deployments already on
//     the same grid;
//   - a removed deployment sends nothing more; if it comes back later in the
//     run, its Seq continues where it stopped (its models and streams start
//     over) and Count still bounds its total;
//   - an unchanged deployment keeps its grid, Seq, models and streams;
//   - a deployment that remains keeps its observed state (see Observe) and
//     its `state:` in cfg is ignored; a new one (or one coming back) starts
//     from its `state:`;
//   - a metric whose spec changed gets the new model (fresh state) from the
//     next tick and keeps its stream; unchanged metrics keep their model state;
//     new metrics get their own stream; overrides survive on metrics that remain;
//   - an interval change re-grids the deployment: it next ticks at the new
//     grid's first point after the last batch, Seq continuing.
//
// Deployments outside ScheduleOptions.Shard are left out, as at start.
// With Config.Spread, phases are assigned from a deployment's position in
// the config where it joins a grid (at start, when added, when its interval
// changes); deployments already running keep theirs. The run's seed and
// ScheduleOptions stay as they were. An invalid cfg changes nothing and
// returns the error. Safe for concurrent use with Run and Next.
func (s *Schedule) Apply(cfg *Config) (ApplyResult, error) {
	if err := validateConfig(cfg, s.interval); err != nil {
		return ApplyResult{}, fmt.Errorf("apply config: %w", err)
	}
	s.mu.Lock()
	res := s.apply(cfg)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return res, nil
}

// apply does Apply's work (and NewSchedule's); s.mu must be held.
func (s *Schedule) apply(cfg *Config) ApplyResult {
	var res ApplyResult
	from := s.nowLocked()
	phases := s.phases(cfg)
	seen := make(map[string]bool, len(cfg.Deployments))
	order := make([]*dep, 0, len(cfg.Deployments))
	for i, cd := range cfg.Deployments {
		if !s.shard.Owns(cd.Name) {
			continue // another shard's: phases above still counted it
		}
		seen[cd.Name] = true
		iv := s.intervalOf(cfg, cd)
		d, ok := s.deps[cd.Name]
		if !ok {
			d = &dep{name: cd.Name, interval: iv, phase: phases[i], seq: s.retired[cd.Name], obs: newObserved(cd.State)}
			delete(s.retired, cd.Name)
			d.done = s.count > 0 && d.seq >= s.count
			s.setMetrics(d, cd.Metrics)
			s.deps[cd.Name] = d
			res.Added = append(res.Added, cd.Name)
			if !d.done {
				s.join(d, from)
			}
		} else {
			changed := s.setMetrics(d, cd.Metrics)
			if d.interval != iv {
				d.interval, d.phase = iv, phases[i]
				changed = true
				if !d.done {
					s.join(d, from)
				}
			}
			if changed {
				res.Changed = append(res.Changed, cd.Name)
			}
		}
		d.index = i
		order = append(order, d)
	}
	for name, d := range s.deps {
		if !seen[name] {
			s.retired[name] = d.seq
			delete(s.deps, name)
			res.Removed = append(res.Removed, name)
		}
	}
	slices.Sort(res.Removed)
	s.order = order
	s.regroup()
	return res
}

// join puts d on the grid of its interval and phase, creating the group at
// the grid's first tick at or after from when none exists.
func (s *Schedule) join(d *dep, from time.Duration) {
	key := gridKey{interval: d.interval, phase: d.phase}
	g, ok := s.groups[key]
	if !ok {
		g = &group{key: key, hi: -1}
		g.k = firstTick(key, from)
		g.due = g.at(g.k)
		s.groups[key] = g
		s.heap.push(g)
	}
	d.g = g
}

// regroup rebuilds every group's member list from s.order, dropping groups
// left empty, so members stay in config order.
func (s *Schedule) regroup() {
	for _, g := range s.groups {
		clear(g.deps)
		g.deps = g.deps[:0]
	}
	for _, d := range s.order {
		if d.g != nil {
			d.g.deps = append(d.g.deps, d)
		}
	}
	for key, g := range s.groups {
		if len(g.deps) == 0 {
			if g.hi >= 0 {
				s.heap.remove(g.hi)
			}
			delete(s.groups, key)
		}
	}
}

// setMetrics makes d's metrics those of specs, keeping the state of the
// unchanged ones, and reports whether anything changed.
func (s *Schedule) setMetrics(d *dep, specs []MetricSpec) bool {
	byName := func(a, b MetricSpec) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(specs, byName) {
		specs = slices.Clone(specs)
		slices.SortFunc(specs, byName)
	}
	var block []metric
	if len(d.metrics) == 0 {
		block = make([]metric, len(specs)) // a new deployment: one allocation for all
	}
	changed := len(specs) != len(d.metrics)
	ms := make([]*metric, 0, len(specs))
	for k, sp := range specs {
		i := slices.IndexFunc(d.metrics, func(m *metric) bool { return m.name == sp.Name })
		if i < 0 {
			changed = true
			var m *metric
			if block != nil {
				m = &block[k]
			} else {
				m = new(metric)
			}
			s.initMetric(m, d.name, sp)
			ms = append(ms, m)
			continue
		}
		m := d.metrics[i]
		if !sameSpec(m, sp) {
			changed = true
			m.spec = specOf(sp)
			m.model, m.reads = s.bind(CloneModel(sp.Model), d.name, sp.Name)
		}
		ms = append(ms, m)
	}
	d.metrics = ms
	return changed
}

// sameSpec reports whether sp defines the same metric as m. Specs decide
// when there are any; without them (hand-built configs) the models are
// compared, which treats a stateful model that has moved as changed.
func sameSpec(m *metric, sp MetricSpec) bool {
	if spec := specOf(sp); m.spec != nil || spec != nil {
		return reflect.DeepEqual(m.spec, spec)
	}
	return reflect.DeepEqual(m.model, sp.Model)
}

// nowLocked is the earliest elapsed time a newly created grid may tick at:
// after the last batch taken and, under Run, not in the past.
func (s *Schedule) nowLocked() time.Duration {
	var t time.Duration
	if s.emitted {
		t = s.lastAt + 1
	}
	if s.realtime {
		t = max(t, time.Since(s.start))
	}
	return t
}

// intervalOf is cd's effective interval: its own, else the override of the
// options, else the config's, else DefaultInterval.
func (s *Schedule) intervalOf(cfg *Config, cd Deployment) time.Duration {
	switch {
	case cd.Interval != 0:
		return cd.Interval
	case s.interval > 0:
		return s.interval
	case cfg.Interval != 0:
		return cfg.Interval
	}
	return DefaultInterval
}

// phases returns each deployment's phase in cfg: 0, or with Spread i*iv/n
// for the i-th of the n deployments sharing interval iv.
func (s *Schedule) phases(cfg *Config) []time.Duration {
	out := make([]time.Duration, len(cfg.Deployments))
	if !cfg.Spread {
		return out
	}
	n := make(map[time.Duration]uint64)
	for _, cd := range cfg.Deployments {
		n[s.intervalOf(cfg, cd)]++
	}
	idx := make(map[time.Duration]uint64)
	for i, cd := range cfg.Deployments {
		iv := s.intervalOf(cfg, cd)
		// i*iv/n in 128 bits: exact for any interval and count.
		hi, lo := bits.Mul64(idx[iv], uint64(iv))
		q, _ := bits.Div64(hi, lo, n[iv])
		out[i] = time.Duration(q)
		idx[iv]++
	}
	return out
}

// validateConfig reports every reason cfg cannot be scheduled.
func validateConfig(cfg *Config, override time.Duration) error {
	if cfg == nil {
		return errors.New("config: nil")
	}
	var errs []error
	if cfg.Interval < 0 && override <= 0 {
		errs = append(errs, fmt.Errorf("interval: %v: must be > 0", cfg.Interval))
	}
	names := make(map[string]bool, len(cfg.Deployments))
	for i, cd := range cfg.Deployments {
		switch {
		case cd.Name == "":
			errs = append(errs, fmt.Errorf("deployments[%d].name: empty", i))
		case names[cd.Name]:
			errs = append(errs, fmt.Errorf("deployments[%d].name: duplicate %q", i, cd.Name))
		}
		names[cd.Name] = true
		if cd.Interval < 0 {
			errs = append(errs, fmt.Errorf("deployments[%d].interval: %v: must be > 0", i, cd.Interval))
		}
		for j, m := range cd.Metrics {
			switch {
			case m.Name == "":
				errs = append(errs, fmt.Errorf("deployments[%d].metrics: empty metric name", i))
			case slices.ContainsFunc(cd.Metrics[:j], func(o MetricSpec) bool { return o.Name == m.Name }):
				errs = append(errs, fmt.Errorf("deployments[%d].metrics.%s: duplicate", i, m.Name))
			case m.Model == nil:
				errs = append(errs, fmt.Errorf("deployments[%d].metrics.%s: no model", i, m.Name))
			}
		}
	}
	return errors.Join(errs...)
}
