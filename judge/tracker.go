package judge

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Schedule is what a Tracker wraps: where observations are recorded and
// the state they made is read. *generator.Schedule is one. Observe fails
// with generator.ErrUnknownDeployment or generator.ErrBadObservation and
// then changes nothing.
type Schedule interface {
	generator.Recorder
	Observed(app string) (generator.ObservedState, error)
}

// Hooks is told of each request's fate, for metrics. Methods must be safe
// for concurrent use and must not block; a nil Hooks is allowed in
// TrackerConfig.
type Hooks interface {
	Opened(metric string)
	Applied(metric string, reaction time.Duration)
	Superseded(metric string)
	Oscillated()
}

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	// Config gives each deployment's targets and tolerance (its
	// `targets:` and `tolerance:`, else the defaults).
	Config *generator.Config
	// OscillationWindow: observed replicas that change direction within
	// it count as an oscillation, unless the requested replicas turned the
	// same way within it before (obedience). Default 5m.
	OscillationWindow time.Duration
	Hooks             Hooks
	// Fates, when set, is told of each request's fate with its
	// deployment (the live page); nil for none.
	Fates Fates
	// Autoscaler, when set, is the real autoscaler of the deployments
	// whose replicas nobody requests: each message of such a deployment
	// that the autoscaler's rules say calls for another replica count
	// opens an HPA request (see the package doc). HPAHooks is told of
	// their fates.
	Autoscaler Autoscaler
	HPAHooks   HPAHooks
	// Clock reads the time of an observation without one and of the end
	// of a run, and times the end's wait. Default: the system clock.
	Clock Clock
}

func (c *TrackerConfig) setDefaults() {
	if c.OscillationWindow == 0 {
		c.OscillationWindow = 5 * time.Minute
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
}

// Validate reports every problem of c, each naming its field.
func (c TrackerConfig) Validate() error {
	if c.OscillationWindow < 0 {
		return fmt.Errorf("OscillationWindow %s: must be > 0", c.OscillationWindow)
	}
	return nil
}

// Tracker judges the operator under test: every value sent opens a
// request when it differs from what is observed of its target, and the
// request ends applied when an observation matches it (the reaction time
// is the time between), or superseded when a later request asks for
// something else first. At most one request is open per (deployment,
// metric).
//
// It wraps the schedule's Observe (it has the same method), so it sees
// every observation of every source. Safe for concurrent use.
type Tracker struct {
	sched Schedule
	cfg   TrackerConfig

	mu           sync.Mutex
	rules        map[string]rules
	open         map[reqKey]*request
	stats        map[reqKey]*reqStats
	trends       map[string]*trend
	unsolicited  int
	oscillations int
	changed      chan struct{} // closed and replaced when a request ends
}

// reqKey names a request's (deployment, metric); hpa marks one the
// Autoscaler called for (metric "replicas").
type reqKey struct {
	app, metric string
	hpa         bool
}

type request struct {
	value float64
	at    time.Time
	id    string
}

// reqStats are the fates of the requests of one (deployment, metric).
type reqStats struct {
	requests, applied, superseded int
	supersededAfter               []time.Duration // how long each superseded request had been open
	reactions                     []time.Duration // of applied requests
}

// rules are a deployment's targets (metric -> "replicas",
// "allocation.<metric>" or "none") and tolerance.
type rules struct {
	targets   map[string]string
	tolerance generator.Tolerance
}

// NewTracker wraps sched; it fails when sched is nil or cfg is not valid.
func NewTracker(sched Schedule, cfg TrackerConfig) (*Tracker, error) {
	cfg.setDefaults()
	err := cfg.Validate()
	if sched == nil {
		err = errors.Join(err, errors.New("schedule: nil"))
	}
	if err != nil {
		return nil, fmt.Errorf("judge: %w", err)
	}
	t := &Tracker{sched: sched, cfg: cfg, open: map[reqKey]*request{}, stats: map[reqKey]*reqStats{},
		trends: map[string]*trend{}, changed: make(chan struct{})}
	t.SetConfig(cfg.Config)
	return t, nil
}

// SetConfig takes the targets and tolerances of a new config (reload).
// Open requests stay open.
func (t *Tracker) SetConfig(cfg *generator.Config) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rules = map[string]rules{}
	if cfg == nil {
		return
	}
	for _, d := range cfg.Deployments {
		t.rules[d.Name] = rules{targets: d.Targets, tolerance: cmpTolerance(d.Tolerance, cfg.Tolerance)}
	}
}

func cmpTolerance(own, def *generator.Tolerance) generator.Tolerance {
	switch {
	case own != nil:
		return *own
	case def != nil:
		return *def
	}
	return generator.Tolerance{}
}

// target is what metric of app is compared with: "replicas",
// "allocation.<m>", or "none". By default the metric named replicas is
// compared with the observed replicas, any other with its own allocation.
func (r rules) target(metric string) string {
	if t, ok := r.targets[metric]; ok {
		return t
	}
	if metric == "replicas" {
		return "replicas"
	}
	return "allocation." + metric
}

// valueOf reads target in an observed state; ok is false when the state
// has no value for it yet.
func valueOf(st generator.State, target string) (float64, bool) {
	if target == "replicas" {
		return st.Replicas, true
	}
	m, ok := strings.CutPrefix(target, "allocation.")
	if !ok {
		return 0, false
	}
	v, ok := st.Allocation[m]
	return v, ok
}

// observedOf reads target in an observation; ok is false when it does not
// carry that field.
func observedOf(ob generator.Observation, target string) (float64, bool) {
	if target == "replicas" {
		return ob.Replicas, ob.HasReplicas
	}
	m, ok := strings.CutPrefix(target, "allocation.")
	if !ok {
		return 0, false
	}
	v, ok := ob.Allocation[m]
	return v, ok
}

// Sent records a message that went on the wire at at: each numeric metric
// whose target has an observed value opens a request when it differs
// from it (within the tolerance). A request still open for the same value
// stays open; one for another value is superseded. id is the message's
// correlation id. Messages a fault changed (corrupt, omit) and injected
// copies open nothing: call Sent only for what the operator was meant to
// read (SentOnWire picks those).
func (t *Tracker) Sent(ev generator.Event, id string, at time.Time) {
	st, err := t.sched.Observed(ev.App)
	if err != nil {
		return
	}
	var calls float64
	judged := false
	if t.cfg.Autoscaler != nil && !t.requestsReplicas(ev) {
		// Outside t.mu: the autoscaler's lock is never taken inside it.
		calls, judged = t.cfg.Autoscaler.Calls(ev, st.Replicas, at)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if judged {
		t.asked(ev.App, calls, st.Replicas, at) // the HPA's calls are the requested replicas of oscillations
		t.hpaCall(ev.App, calls, st.Replicas, at, id)
	}
	r := t.rules[ev.App]
	for _, m := range ev.Metrics {
		if !m.Value.HasNum {
			continue
		}
		target := r.target(m.Name)
		observed, ok := valueOf(st.State, target)
		if target == "none" || !ok {
			continue
		}
		if target == "replicas" {
			t.asked(ev.App, m.Value.Num, observed, at)
		}
		k := reqKey{app: ev.App, metric: m.Name}
		if open := t.open[k]; open != nil {
			if r.tolerance.Match(m.Value.Num, open.value) {
				continue // the same request, still waiting
			}
			t.supersede(k, open, at)
		}
		if r.tolerance.Match(m.Value.Num, observed) {
			continue // already what the operator applied
		}
		req := &request{value: m.Value.Num, at: at, id: id}
		t.open[k] = req
		t.statsOf(k).requests++
		t.fate(k, req, FateOpen, time.Time{})
		t.opened(k)
	}
}

func (t *Tracker) statsOf(k reqKey) *reqStats { return entry(t.stats, k) }

// entry is m[k], made (zero) and stored first when missing.
func entry[K comparable, V any](m map[K]*V, k K) *V {
	v := m[k]
	if v == nil {
		v = new(V)
		m[k] = v
	}
	return v
}

// supersede ends an open request as superseded; t.mu is held.
func (t *Tracker) supersede(k reqKey, r *request, at time.Time) {
	s := t.statsOf(k)
	s.superseded++
	s.supersededAfter = append(s.supersededAfter, max(at.Sub(r.at), 0))
	delete(t.open, k)
	t.fate(k, r, FateSuperseded, at)
	t.superseded(k)
	t.notify()
}

func (t *Tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// Observe records ob on the schedule, then closes the open requests of
// app that ob matches (reaction = ob's time minus the request's), counts
// ob as unsolicited when it matches none and changes the observed state
// (a repeat of what is applied is not), and follows the observed replicas
// for oscillations. It fails as the schedule's Observe does, and then
// tracks nothing.
func (t *Tracker) Observe(app string, ob generator.Observation) error {
	if ob.At.IsZero() {
		ob.At = t.cfg.Clock.Now()
	}
	before, _ := t.sched.Observed(app)
	if err := t.sched.Observe(app, ob); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rules[app]
	matched := false
	for k, open := range t.open {
		if k.app != app {
			continue
		}
		if k.hpa {
			if !ob.HasReplicas || ob.Replicas != open.value {
				continue
			}
		} else if v, ok := observedOf(ob, r.target(k.metric)); !ok || !r.tolerance.Match(open.value, v) {
			continue
		}
		reaction := max(ob.At.Sub(open.at), 0)
		s := t.statsOf(k)
		s.applied++
		s.reactions = append(s.reactions, reaction)
		delete(t.open, k)
		t.fate(k, open, FateApplied, ob.At)
		matched = true
		t.applied(k, reaction)
	}
	switch {
	case matched:
		t.notify()
	case changes(before.State, ob):
		t.unsolicited++ // the operator acting on its own (a repeat of what is applied is not)
	}
	if ob.HasReplicas {
		t.follow(app, before.Replicas, ob.Replicas, ob.At)
	}
	return nil
}

// changes reports whether ob sets a field of st to another value.
func changes(st generator.State, ob generator.Observation) bool {
	if ob.HasReplicas && ob.Replicas != st.Replicas || ob.HasReady && ob.Ready != st.Ready {
		return true
	}
	for m, v := range ob.Allocation {
		if old, ok := st.Allocation[m]; !ok || old != v {
			return true
		}
	}
	return false
}
