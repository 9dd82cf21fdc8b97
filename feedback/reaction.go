package feedback

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Observer is what reaction tracking wraps: the schedule, which records
// observations and tells the state they made. *generator.Schedule is one.
type Observer interface {
	Recorder
	Observed(app string) (generator.ObservedState, error)
}

// ReactionHooks is told of each request's fate, for metrics. Methods must
// be safe for concurrent use and must not block; a nil ReactionHooks is
// allowed in TrackerConfig.
type ReactionHooks interface {
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
	// it count as an oscillation. Default 5m.
	OscillationWindow time.Duration
	Hooks             ReactionHooks
	Now               func() time.Time // default time.Now
}

// Tracker judges the operator under test: every value sent opens a
// request when it differs from what is observed of its target, and the
// request ends applied when an observation matches it (the reaction time
// is the time between), or superseded when a later request asks for
// something else first. At most one request is open per (deployment,
// metric).
//
// It wraps the schedule's Observe (it is a Recorder itself), so it sees
// every observation of every source. Safe for concurrent use.
type Tracker struct {
	sched Observer
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

type reqKey struct{ app, metric string }

type request struct {
	value float64
	at    time.Time
	id    string
}

// reqStats are the fates of the requests of one (deployment, metric).
type reqStats struct {
	requests, applied, superseded int
	supersededAfter               []float64 // seconds each superseded request had been open
	reactions                     []float64 // seconds, of applied requests
}

// trend follows one deployment's observed replicas for oscillations.
type trend struct {
	value     float64
	dir       int
	changedAt time.Time
	seen      bool
}

// rules are a deployment's targets (metric -> "replicas",
// "allocation.<metric>" or "none") and tolerance.
type rules struct {
	targets   map[string]string
	tolerance generator.Tolerance
}

// NewTracker wraps sched.
func NewTracker(sched Observer, cfg TrackerConfig) *Tracker {
	if cfg.OscillationWindow <= 0 {
		cfg.OscillationWindow = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Tracker{sched: sched, cfg: cfg, open: map[reqKey]*request{}, stats: map[reqKey]*reqStats{},
		trends: map[string]*trend{}, changed: make(chan struct{})}
	t.SetConfig(cfg.Config)
	return t
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
// read.
func (t *Tracker) Sent(ev generator.Event, id string, at time.Time) {
	st, err := t.sched.Observed(ev.App)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
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
		k := reqKey{ev.App, m.Name}
		if open := t.open[k]; open != nil {
			if r.tolerance.Match(m.Value.Num, open.value) {
				continue // the same request, still waiting
			}
			t.supersede(k, open, at)
		}
		if r.tolerance.Match(m.Value.Num, observed) {
			continue // already what the operator applied
		}
		t.open[k] = &request{value: m.Value.Num, at: at, id: id}
		t.statsOf(k).requests++
		if t.cfg.Hooks != nil {
			t.cfg.Hooks.Opened(m.Name)
		}
	}
}

func (t *Tracker) statsOf(k reqKey) *reqStats {
	s := t.stats[k]
	if s == nil {
		s = &reqStats{}
		t.stats[k] = s
	}
	return s
}

// supersede ends an open request as superseded; t.mu is held.
func (t *Tracker) supersede(k reqKey, r *request, at time.Time) {
	s := t.statsOf(k)
	s.superseded++
	s.supersededAfter = append(s.supersededAfter, max(at.Sub(r.at), 0).Seconds())
	delete(t.open, k)
	if t.cfg.Hooks != nil {
		t.cfg.Hooks.Superseded(k.metric)
	}
	t.notify()
}

func (t *Tracker) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// Observe implements Recorder: it records ob on the schedule, then closes
// the open requests of app that ob matches (reaction = ob's time minus the
// request's), counts ob as unsolicited when it matches none and changes
// the observed state (a repeat of what is applied is not), and follows
// the observed replicas for oscillations. It fails as the schedule's
// Observe does, and then tracks nothing.
func (t *Tracker) Observe(app string, ob generator.Observation) error {
	if ob.At.IsZero() {
		ob.At = t.cfg.Now()
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
		v, ok := observedOf(ob, r.target(k.metric))
		if !ok || !r.tolerance.Match(open.value, v) {
			continue
		}
		reaction := max(ob.At.Sub(open.at), 0)
		s := t.statsOf(k)
		s.applied++
		s.reactions = append(s.reactions, reaction.Seconds())
		delete(t.open, k)
		matched = true
		if t.cfg.Hooks != nil {
			t.cfg.Hooks.Applied(k.metric, reaction)
		}
	}
	switch {
	case matched:
		t.notify()
	case changes(before.State, ob):
		t.unsolicited++ // the operator acting on its own (a repeat of what is applied is not)
	}
	if ob.HasReplicas {
		t.follow(app, ob.Replicas, ob.At)
	}
	return nil
}

// follow counts an oscillation when app's observed replicas turn around
// within the window since their last change; t.mu is held.
func (t *Tracker) follow(app string, v float64, at time.Time) {
	tr := t.trends[app]
	if tr == nil {
		tr = &trend{}
		t.trends[app] = tr
	}
	if !tr.seen {
		tr.value, tr.seen, tr.changedAt = v, true, at
		return
	}
	if v == tr.value {
		return
	}
	dir := 1
	if v < tr.value {
		dir = -1
	}
	if tr.dir != 0 && dir != tr.dir && at.Sub(tr.changedAt) <= t.cfg.OscillationWindow {
		t.oscillations++
		if t.cfg.Hooks != nil {
			t.cfg.Hooks.Oscillated()
		}
	}
	tr.value, tr.dir, tr.changedAt = v, dir, at
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

// Open returns how many requests are open.
func (t *Tracker) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}

// OldestOpen returns when the oldest request still open was made, and
// false when none is open. Safe for concurrent use.
func (t *Tracker) OldestOpen() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest time.Time
	for _, r := range t.open {
		if oldest.IsZero() || r.at.Before(oldest) {
			oldest = r.at
		}
	}
	return oldest, !oldest.IsZero()
}

// WaitSettled waits until no request is open, or wait has passed since
// the newest open one was made, or ctx ends.
func (t *Tracker) WaitSettled(ctx context.Context, wait time.Duration) {
	for {
		t.mu.Lock()
		var newest time.Time
		for _, r := range t.open {
			if r.at.After(newest) {
				newest = r.at
			}
		}
		changed := t.changed
		t.mu.Unlock()
		if newest.IsZero() {
			return
		}
		left := newest.Add(wait).Sub(t.cfg.Now())
		if left <= 0 {
			return
		}
		timer := time.NewTimer(left)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-changed:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// MetricReport is the fate of one (deployment, metric)'s requests.
type MetricReport struct {
	App         string   `json:"app"`
	Metric      string   `json:"metric"`
	Requests    int      `json:"requests"`
	Applied     int      `json:"applied"`
	Superseded  int      `json:"superseded"`
	Open        int      `json:"open"`
	OpenFor     float64  `json:"open_for_seconds,omitempty"` // how long the open one has waited
	ReactionP50 *float64 `json:"reaction_p50_seconds"`
	ReactionP99 *float64 `json:"reaction_p99_seconds"`
	ReactionMax *float64 `json:"reaction_max_seconds"`
	// Late counts requests that took longer than the judged maximum:
	// applied late, superseded after waiting longer, or open longer.
	Late int `json:"late"`
}

// Report is what a run's operator did, in all and per (deployment, metric).
type Report struct {
	Requests     int            `json:"requests"`
	Applied      int            `json:"applied"`
	Superseded   int            `json:"superseded"`
	Open         int            `json:"open"`
	Unsolicited  int            `json:"unsolicited"`
	Oscillations int            `json:"oscillations"`
	ReactionP50  *float64       `json:"reaction_p50_seconds"`
	ReactionP99  *float64       `json:"reaction_p99_seconds"`
	ReactionMax  *float64       `json:"reaction_max_seconds"`
	MaxReaction  float64        `json:"max_reaction_seconds,omitempty"`
	Late         int            `json:"late"`
	Metrics      []MetricReport `json:"metrics"`
}

// Report sums the run up at now. With maxReaction > 0, Late counts the
// requests that took longer: applied after more than maxReaction,
// superseded after waiting longer, or open for longer. Open requests
// younger than maxReaction are reported, not late.
func (t *Tracker) Report(now time.Time, maxReaction time.Duration) Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Unsolicited: t.unsolicited, Oscillations: t.oscillations, MaxReaction: maxReaction.Seconds()}
	var all []float64
	keys := make([]reqKey, 0, len(t.stats))
	for k := range t.stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int { return strings.Compare(a.app+"\x00"+a.metric, b.app+"\x00"+b.metric) })
	limit := maxReaction.Seconds()
	for _, k := range keys {
		s := t.stats[k]
		m := MetricReport{App: k.app, Metric: k.metric, Requests: s.requests, Applied: s.applied, Superseded: s.superseded}
		m.ReactionP50, m.ReactionP99, m.ReactionMax = quantiles(s.reactions)
		if r := t.open[k]; r != nil {
			m.Open, m.OpenFor = 1, round3(max(now.Sub(r.at), 0).Seconds())
		}
		if limit > 0 {
			for _, v := range s.reactions {
				if v > limit {
					m.Late++
				}
			}
			for _, v := range s.supersededAfter {
				if v > limit {
					m.Late++
				}
			}
			if m.Open > 0 && m.OpenFor > limit {
				m.Late++
			}
		}
		all = append(all, s.reactions...)
		rep.Requests += m.Requests
		rep.Applied += m.Applied
		rep.Superseded += m.Superseded
		rep.Open += m.Open
		rep.Late += m.Late
		rep.Metrics = append(rep.Metrics, m)
	}
	rep.ReactionP50, rep.ReactionP99, rep.ReactionMax = quantiles(all)
	return rep
}

// quantiles are the exact p50, p99 and maximum of vs (nearest rank), in
// seconds to 3 decimals; nil when vs is empty.
func quantiles(vs []float64) (p50, p99, top *float64) {
	if len(vs) == 0 {
		return nil, nil, nil
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	rank := func(q float64) *float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		v := round3(s[max(i, 0)])
		return &v
	}
	return rank(0.5), rank(0.99), rank(1)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Line is the report's one summary line:
// requests=N applied=A superseded=S open=O reaction_p50=… reaction_p99=… reaction_max=… oscillations=K
// (seconds with 3 decimals, "-" without an applied request).
func (r Report) Line() string {
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'f', 3, 64)
	}
	return fmt.Sprintf("requests=%d applied=%d superseded=%d open=%d reaction_p50=%s reaction_p99=%s reaction_max=%s oscillations=%d",
		r.Requests, r.Applied, r.Superseded, r.Open, f(r.ReactionP50), f(r.ReactionP99), f(r.ReactionMax), r.Oscillations)
}
