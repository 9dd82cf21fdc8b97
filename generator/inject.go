package generator

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Injector applies a config's faults to the events of a run. Each
// (deployment, fault kind) draws from a stream of its own, keyed by the
// seed, the deployment and NUL+"fault"+NUL+kind (NUL cannot occur in a
// metric name, so no key is a metric's): faults reproduce exactly for a
// seed, and adding, removing or changing faults changes no value.
//
// Safe for concurrent use: the control API changes faults while a run
// applies them.
type Injector struct {
	mu     sync.Mutex
	seed   int64
	count  uint64  // the run's Count: seq == count is a bounded run's last message
	config *Config // for each deployment's faults; nil before SetConfig
	deps   map[string]*depFaults
	over   map[string]*Faults // set by the control API, per deployment
	all    *Faults            // set by the control API for every deployment
	hasAll bool
	counts [numFaultKinds]uint64
	ids    *rand.Rand // correlation ids of events that have copies

	configured bool   // some deployment of the config has faults
	skipped    uint64 // suppressed seqs not yet reported by a message
}

const numFaultKinds = 8

// depFaults is one deployment's fault state.
type depFaults struct {
	faults  *Faults // from the config
	pcg     [numFaultKinds]rand.PCG
	streams [numFaultKinds]*rand.Rand // nil until the kind first draws
	skipped uint64                    // seqs suppressed since the last message sent
}

// NewInjector returns an Injector for cfg's faults. count is the run's
// ScheduleOptions.Count (0: unbounded); the last message of a bounded run
// is never dropped or silenced, so no injected gap is ever trailing.
func NewInjector(cfg *Config, seed int64, count int) *Injector {
	in := &Injector{seed: seed, count: uint64(max(count, 0)), deps: map[string]*depFaults{},
		over: map[string]*Faults{}, ids: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	in.SetConfig(cfg)
	return in
}

// SetConfig switches to the faults of a new config (hot reload). The
// streams and the count of suppressed seqs of deployments that remain are
// kept; faults set through the control API stay in force.
func (in *Injector) SetConfig(cfg *Config) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.config = cfg
	keep := make(map[string]*depFaults)
	for i := range cfg.Deployments {
		d := &cfg.Deployments[i]
		f, df := faultsOf(cfg, d), in.deps[d.Name]
		if df == nil && f == nil {
			// No state until there are faults to draw: 150,000
			// deployments without faults cost nothing here.
			continue
		}
		if df == nil {
			df = &depFaults{}
		}
		df.faults = f
		keep[d.Name] = df
	}
	for name, df := range in.deps {
		if keep[name] == nil {
			in.skipped -= df.skipped // a removed deployment reports nothing any more
		}
	}
	in.deps = keep
	in.configured = cfg.HasFaults()
}

// Active reports whether Apply may change anything: some deployment has
// faults, or a suppressed seq has yet to be reported. While it is false,
// Apply would hand every event back as it is, so a caller may skip it.
func (in *Injector) Active() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.configured || len(in.over) > 0 || in.hasAll || in.skipped > 0
}

// SetFaults sets the faults of deployment app, replacing its config's
// until ClearFaults; nil f injects nothing into it.
func (in *Injector) SetFaults(app string, f *Faults) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.over[app] = f
}

// SetAllFaults sets the faults of every deployment that has none set with
// SetFaults, until ClearFaults.
func (in *Injector) SetAllFaults(f *Faults) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.all, in.hasAll = f, true
}

// ClearFaults removes what SetFaults set for app, or with app "" what
// SetAllFaults and every SetFaults set: the config's faults apply again.
func (in *Injector) ClearFaults(app string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if app != "" {
		delete(in.over, app)
		return
	}
	clear(in.over)
	in.all, in.hasAll = nil, false
}

// Faults returns the faults in effect for app and where they come from:
// "control" or "config" ("" when none).
func (in *Injector) Faults(app string) (*Faults, string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.faultsLocked(app, in.deps[app])
}

func (in *Injector) faultsLocked(app string, df *depFaults) (*Faults, string) {
	if f, ok := in.over[app]; ok {
		return f, "control"
	}
	if in.hasAll {
		return in.all, "control"
	}
	if df != nil && df.faults != nil {
		return df.faults, "config"
	}
	return nil, ""
}

// Count returns how many faults of kind were injected so far: messages
// dropped, silenced, delayed, made stale, corrupted or with a metric
// omitted; extra copies for duplicate and burst.
func (in *Injector) Count(kind FaultKind) uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.counts[faultIndex(kind)]
}

func faultIndex(kind FaultKind) int {
	return slices.Index(FaultKinds, kind)
}

// Apply appends to out the events of one batch (at: its elapsed time) as
// faults make them, in the batch's order: each event, then its extra
// copies. Events that are not to be sent are appended with Suppressed set
// (a preview shows them). An event whose deployment has no faults is
// appended unchanged but for Dropped. last reports whether an event is
// the last of a bounded run beyond Count (a preview's last tick); it may
// be nil. The events' Metrics are copied before a fault changes them.
func (in *Injector) Apply(events []Event, at time.Duration, last func(Event) bool, out []Event) []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, ev := range events {
		df := in.deps[ev.App]
		f, _ := in.faultsLocked(ev.App, df)
		if f == nil || len(f.Specs) == 0 {
			if df != nil {
				ev.Dropped = df.report()
				in.skipped -= ev.Dropped
			}
			out = append(out, ev)
			continue
		}
		if df == nil { // faults set through the control API, or a deployment the injector was not told of
			df = &depFaults{}
			in.deps[ev.App] = df
		}
		isLast := (in.count > 0 && ev.Seq >= in.count) || (last != nil && last(ev))
		out = in.apply(ev, at, isLast, f, df, out)
	}
	return out
}

// apply draws every configured kind for ev and appends the outcome.
func (in *Injector) apply(ev Event, at time.Duration, isLast bool, f *Faults, df *depFaults, out []Event) []Event {
	var (
		suppress  FaultKind
		applied   []string
		copies    int
		copyKinds [2]int // extra copies for duplicate, burst
		metrics   = ev.Metrics
		changed   bool
	)
	for i := range f.Specs {
		s := &f.Specs[i]
		k := faultIndex(s.Kind)
		r := df.stream(in.seed, ev.App, k)
		fires := s.on(at)
		if s.Every == 0 {
			fires = r.Float64() < s.P // drawn every message, so each kind's stream stays aligned
		}
		if !fires {
			continue
		}
		// The draws a kind makes when it fires happen whether or not drop or
		// silence then suppresses the message, for the same reason.
		switch s.Kind {
		case FaultDrop, FaultSilence:
			if suppress == "" && !isLast {
				suppress = s.Kind
			}
		case FaultDuplicate:
			copyKinds[0] = s.Times
		case FaultBurst:
			copyKinds[1] = s.Times
		case FaultDelay:
			ev.Delay = s.By
			applied = append(applied, string(s.Kind))
		case FaultStale:
			ev.Time = ev.Time.Add(-s.By)
			applied = append(applied, string(s.Kind))
		case FaultCorrupt, FaultOmit:
			eligible := eligibleMetrics(metrics, s.Metrics)
			if len(eligible) == 0 {
				continue
			}
			m := eligible[r.IntN(len(eligible))]
			if !changed {
				metrics, changed = slices.Clone(metrics), true
			}
			if s.Kind == FaultCorrupt {
				v := s.Values[r.IntN(len(s.Values))]
				metrics[m].Value = Value{Text: v}
			} else {
				metrics = slices.Delete(metrics, m, m+1)
			}
			applied = append(applied, string(s.Kind))
		}
	}
	if suppress != "" {
		df.skipped++
		in.skipped++
		in.counts[faultIndex(suppress)]++
		ev.Fault, ev.Suppressed, ev.Delay, ev.Dropped = string(suppress), true, 0, 0
		return append(out, ev)
	}
	ev.Metrics = metrics
	ev.Fault = strings.Join(applied, ",")
	ev.Dropped = df.report()
	in.skipped -= ev.Dropped
	for _, a := range applied {
		in.counts[faultIndex(FaultKind(a))]++
	}
	copies = copyKinds[0] + copyKinds[1]
	if copies > 0 {
		ev.ID = in.ids.Uint64() | 1 // never 0, which means "draw one"
	}
	out = append(out, ev)
	for i, kind := range []FaultKind{FaultDuplicate, FaultBurst} {
		c := ev
		c.Fault, c.Dropped = string(kind), 0
		for range copyKinds[i] {
			out = append(out, c)
		}
		in.counts[faultIndex(kind)] += uint64(copyKinds[i])
	}
	return out
}

// eligibleMetrics returns the indexes of ms a fault may touch: those
// named in names, or all when names is nil.
func eligibleMetrics(ms []Metric, names []string) []int {
	var out []int
	for i, m := range ms {
		if names == nil || slices.Contains(names, m.Name) {
			out = append(out, i)
		}
	}
	return out
}

// report returns the seqs suppressed since the last message and starts
// counting again: the next message carries them as Dropped.
func (df *depFaults) report() uint64 {
	n := df.skipped
	df.skipped = 0
	return n
}

// stream returns the stream of kind k of this deployment.
func (df *depFaults) stream(seed int64, app string, k int) *rand.Rand {
	if df.streams[k] == nil {
		df.pcg[k].Seed(streamSeeds(seed, app, "\x00fault\x00"+string(FaultKinds[k])))
		df.streams[k] = rand.New(&df.pcg[k])
	}
	return df.streams[k]
}
