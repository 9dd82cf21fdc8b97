package generator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ScheduleOptions are the run-wide settings of a Schedule that do not come
// from the config file.
type ScheduleOptions struct {
	// Start is the wall-clock time of tick 0; Event.Time = Start + elapsed.
	// The zero value means time.Now() when NewSchedule is called.
	Start time.Time
	// Run is stamped on every Event.Run.
	Run string
	// Seed seeds every metric's stream (see Stream). The caller resolves it
	// (flag > config > random); a new config given to Apply does not change it.
	Seed int64
	// Shard, when set, keeps only the deployments it owns, in this config
	// and in every one applied. Phases (Config.Spread) are still computed
	// over the whole config, so a deployment ticks at the same instants
	// whichever shards run. The zero value keeps every deployment.
	Shard Shard
	// Interval, when > 0, overrides the config's default interval (not the
	// intervals set per deployment), in this config and in every one applied.
	Interval time.Duration
	// Count is the number of messages each deployment sends; 0 = unbounded.
	Count int
	// OnModelError, when set, is told of every error a StateModel reports
	// (an expression that failed at run time: the metric sent its previous
	// value). It runs on the ticking goroutine with the Schedule's lock
	// held: it must be quick and must not call the Schedule.
	OnModelError func(app, metric string, err error)
}

// Batch is every event due at one instant of the run.
type Batch struct {
	// At is the elapsed time since Start of the tick the events belong to.
	At time.Duration
	// Events in config order. They (and their Metrics) stay valid only until
	// the next call of Next, or until emit returns in Run: the Schedule reuses
	// the backing arrays. Copy what must outlive that.
	Events []Event
}

// Schedule turns a Config into Events on a fixed time grid: tick k of a
// deployment with interval i and phase p is at p + k*i after Start (p is 0
// unless Config.Spread is set). Deployments whose ticks fall on the same
// instant come out in one Batch, in config order.
//
// Each (deployment, metric) draws from its own stream, Stream(Seed,
// deployment, metric), so the same seed and config give the same values.
//
// Each deployment has an observed state (see Observe), from its config's
// `state:` until feedback changes it; models that implement StateModel
// read it at every tick, with the tick's index on the grid.
//
// The schedule clones the config's models (CloneModel), so a Config may be
// scheduled again. Either Next (virtual clock) or Run (real clock) drives
// a Schedule, never both and never two at once. The control methods
// (Apply, Override, ClearOverride, Pause, Resume, Snapshot, Observe,
// Observed, ObservedStates) are safe for concurrent use with them and with
// each other.
type Schedule struct {
	mu sync.Mutex

	start    time.Time
	run      string
	seed     int64
	shard    Shard
	interval time.Duration // ScheduleOptions.Interval (0 = none)
	count    uint64        // 0 = unbounded
	onError  func(app, metric string, err error)

	deps    map[string]*dep
	order   []*dep            // current config order
	retired map[string]uint64 // seq of removed deployments, so a re-added one continues it
	groups  map[gridKey]*group
	heap    groupHeap

	emitted  bool          // a batch has been taken
	lastAt   time.Duration // At of the last batch taken
	realtime bool          // Run is driving: "now" is the wall clock
	wake     chan struct{} // Apply tells Run to look at the heap again

	// Reused between batches so a tick allocates nothing.
	popped  []*group
	due     []*dep
	events  []Event
	metrics []Metric
}

// NewSchedule builds the schedule of cfg. It fails when opts are invalid
// (negative Interval or Count) or cfg is not schedulable: nil, a deployment
// without a name, a duplicate name, a metric without a name or model, or an
// interval that is not > 0. All problems are reported, joined.
func NewSchedule(cfg *Config, opts ScheduleOptions) (*Schedule, error) {
	var errs []error
	if opts.Interval < 0 {
		errs = append(errs, fmt.Errorf("interval: %v: must be > 0", opts.Interval))
	}
	if opts.Count < 0 {
		errs = append(errs, fmt.Errorf("count: %d: must be >= 0", opts.Count))
	}
	if err := opts.Shard.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("shard: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new schedule: %w", err)
	}
	if err := validateConfig(cfg, opts.Interval); err != nil {
		return nil, fmt.Errorf("new schedule: %w", err)
	}
	if opts.Start.IsZero() {
		opts.Start = time.Now()
	}
	s := &Schedule{
		start:    opts.Start,
		run:      opts.Run,
		seed:     opts.Seed,
		shard:    opts.Shard,
		interval: opts.Interval,
		count:    uint64(opts.Count),
		onError:  opts.OnModelError,
		deps:     make(map[string]*dep, len(cfg.Deployments)),
		retired:  make(map[string]uint64),
		groups:   make(map[gridKey]*group),
		wake:     make(chan struct{}, 1),
	}
	s.apply(cfg)
	return s, nil
}

// Next takes the next batch in time order on a virtual clock (no waiting):
// the one at the earliest instant any deployment is due. It returns false
// when nothing is left to send: every deployment has sent Count messages
// (never, with Count 0, while any deployment remains). A batch may have no
// events when every deployment due at that instant is paused.
func (s *Schedule) Next() (Batch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next()
}

// Run sends the schedule on the real clock: it waits until Start+At of each
// batch and calls emit with it (batches with no events are not emitted).
// emit runs without the Schedule's lock held, so control methods may be
// called meanwhile. A slow emit makes later ticks late, never skipped: each
// runs as soon as the previous emit returns, with its own grid At.
//
// Run returns nil when every deployment has sent Count messages (a paused
// deployment holds it open until resumed), ctx.Err() when ctx is cancelled,
// or emit's error unchanged. With Count 0 it runs until ctx is cancelled.
// It uses one timer and starts no goroutines.
func (s *Schedule) Run(ctx context.Context, emit func(ctx context.Context, b Batch) error) error {
	s.mu.Lock()
	s.realtime = true
	s.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		if len(s.heap) == 0 {
			finished := s.count > 0
			s.mu.Unlock()
			if finished {
				return nil
			}
			// Unbounded and empty: only an Apply can bring work.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
				continue
			}
		}
		at := s.heap[0].due
		s.mu.Unlock()
		if wait := time.Until(s.start.Add(at)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
				// An Apply may have added an earlier tick: look again.
				timer.Stop()
				continue
			case <-timer.C:
			}
		}
		s.mu.Lock()
		b, ok := s.next()
		s.mu.Unlock()
		if !ok || len(b.Events) == 0 {
			continue
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
	}
}

// next takes the earliest batch; s.mu must be held.
func (s *Schedule) next() (Batch, bool) {
	if len(s.heap) == 0 {
		return Batch{}, false
	}
	at := s.heap[0].due
	s.popped = s.popped[:0]
	s.due = s.due[:0]
	for len(s.heap) > 0 && s.heap[0].due == at {
		g := s.heap.pop()
		s.popped = append(s.popped, g)
		s.due = append(s.due, g.deps...)
	}
	if len(s.popped) > 1 {
		// Several grids meet here: merge them back into config order.
		slices.SortFunc(s.due, func(a, b *dep) int { return a.index - b.index })
	}
	n := 0
	for _, d := range s.due {
		if !d.paused {
			n += len(d.metrics)
		}
	}
	if cap(s.metrics) < n {
		s.metrics = make([]Metric, n)
	}
	s.events = s.events[:0]
	t := s.start.Add(at)
	off := 0
	for _, d := range s.due {
		if d.paused {
			continue
		}
		d.seq++
		ms := s.metrics[off : off+len(d.metrics) : off+len(d.metrics)]
		off += len(d.metrics)
		for i, m := range d.metrics {
			model, reads := m.model, m.reads
			if m.over != nil {
				model, reads = m.over.model, m.over.reads
			}
			var v Value
			if reads {
				sm := model.(StateModel)
				var err error
				obs := d.observed()
				v, err = sm.NextState(&m.stream, Input{At: at, Tick: d.g.k, State: &obs.st, Version: obs.version})
				if err != nil && s.onError != nil {
					s.onError(d.name, m.name, err)
				}
			} else {
				v = model.Next(&m.stream, at)
			}
			ms[i] = Metric{Name: m.name, Value: v}
			m.last, m.hasLast = v, true
		}
		s.events = append(s.events, Event{App: d.name, Metrics: ms, Seq: d.seq, Run: s.run, Time: t})
		if s.count > 0 && d.seq >= s.count {
			d.done = true
		}
	}
	for _, g := range s.popped {
		s.advance(g)
	}
	s.emitted, s.lastAt = true, at
	return Batch{At: at, Events: s.events}, true
}

// advance drops finished deployments from g and puts g back in the heap at
// its next tick, or forgets it when it has no deployment left.
func (s *Schedule) advance(g *group) {
	live := g.deps[:0]
	for _, d := range g.deps {
		if d.done {
			d.g = nil
			continue
		}
		live = append(live, d)
	}
	clear(g.deps[len(live):])
	g.deps = live
	if len(g.deps) == 0 {
		delete(s.groups, g.key)
		return
	}
	g.k++
	g.due = g.at(g.k)
	s.heap.push(g)
}
