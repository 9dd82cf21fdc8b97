package generator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// MaxBatch, when > 0, makes Run hand a tick of more events to emit in
	// parts of at most MaxBatch (see Batch.Part), each computed just before
	// it is emitted, so a tick of 150,000 deployments is never in memory
	// at once. Next always returns whole ticks.
	MaxBatch int
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
	// Part numbers the parts of one tick that Run emits (from 0) when
	// ScheduleOptions.MaxBatch splits it; Last marks its last part. A
	// whole tick is Part 0 with Last set. Parts come in config order.
	Part int
	Last bool
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
	maxBatch int           // 0 = whole ticks
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

	// draw is the one Rand every metric draws through, its source switched
	// to the metric's own PCG before each value (s.mu is held): a metric
	// keeps 16 bytes of stream state and no Rand of its own.
	src  pcgSource
	draw *rand.Rand

	// Reused between batches so a tick allocates nothing.
	popped  []*group
	due     []*dep
	taken   int           // deployments of due whose events were made
	dueAt   time.Duration // the instant due belongs to
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
		maxBatch: max(opts.MaxBatch, 0),
		onError:  opts.OnModelError,
		deps:     make(map[string]*dep, len(cfg.Deployments)),
		retired:  make(map[string]uint64),
		groups:   make(map[gridKey]*group),
		wake:     make(chan struct{}, 1),
	}
	s.draw = rand.New(&s.src)
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
// batch and calls emit with it, in parts when ScheduleOptions.MaxBatch
// says so (see runTick: an empty part is not emitted, but for the last of
// a tick whose others were). emit runs without the Schedule's lock held, so control methods may be
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
		if err := s.runTick(ctx, emit); err != nil {
			return err
		}
	}
}

// runTick takes the earliest tick and emits it, in parts of at most
// maxBatch events. The lock is released while emit runs, so a control
// method may act between parts: a pause skips the paused deployment's
// part still to come, and a reload takes effect from the next tick (the
// parts left send what was due). An empty part is not emitted, except a
// last one after others were, so that every emitted tick ends with Last.
func (s *Schedule) runTick(ctx context.Context, emit func(ctx context.Context, b Batch) error) error {
	s.mu.Lock()
	ok := s.begin()
	s.mu.Unlock()
	parts := 0
	for ok {
		s.mu.Lock()
		b := s.part(s.maxBatch)
		s.mu.Unlock()
		if len(b.Events) > 0 || (b.Last && parts > 0) {
			b.Part = parts
			parts++
			if err := emit(ctx, b); err != nil {
				return err
			}
		}
		if b.Last {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// next takes the earliest batch whole; s.mu must be held.
func (s *Schedule) next() (Batch, bool) {
	if !s.begin() {
		return Batch{}, false
	}
	return s.part(0), true
}

// begin takes the deployments due at the earliest instant off the heap
// into s.due, in config order; false when nothing is left. s.mu must be
// held. Their events are made by part.
func (s *Schedule) begin() bool {
	if len(s.heap) == 0 {
		return false
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
	s.taken, s.dueAt = 0, at
	// A grid that a reload creates before the last part starts after at.
	s.emitted, s.lastAt = true, at
	return true
}

// part makes the events of the next n deployments of the tick begun (all
// that are left when n is 0) and, once none is left, puts the tick's grids
// back on the heap. s.mu must be held.
func (s *Schedule) part(n int) Batch {
	end := len(s.due)
	if n > 0 {
		end = min(s.taken+n, end)
	}
	due := s.due[s.taken:end]
	s.taken = end
	size := 0
	for _, d := range due {
		if !d.paused {
			size += len(d.metrics)
		}
	}
	if cap(s.metrics) < size {
		s.metrics = make([]Metric, size)
	}
	s.events = s.events[:0]
	at := s.dueAt
	t := s.start.Add(at)
	off := 0
	for _, d := range due {
		if d.paused || d.done {
			continue
		}
		d.seq++
		ms := s.metrics[off : off+len(d.metrics) : off+len(d.metrics)]
		off += len(d.metrics)
		for i, m := range d.metrics {
			ms[i] = Metric{Name: m.name, Value: s.value(d, m, at)}
		}
		s.events = append(s.events, Event{App: d.name, Metrics: ms, Seq: d.seq, Run: s.run, Time: t})
		if s.count > 0 && d.seq >= s.count {
			d.done = true
		}
	}
	last := end == len(s.due)
	if last {
		for _, g := range s.popped {
			s.advance(g)
		}
		clear(s.due) // hold no removed deployment past its tick
		s.due, s.popped = s.due[:0], s.popped[:0]
	}
	return Batch{At: at, Events: s.events, Last: last}
}

// value draws m's value of deployment d at tick instant at.
func (s *Schedule) value(d *dep, m *metric, at time.Duration) Value {
	model, reads := m.model, m.reads
	if m.over != nil {
		model, reads = m.over.model, m.over.reads
	}
	s.src.pcg = &m.pcg
	var v Value
	if reads {
		obs := d.observed()
		var err error
		v, err = model.(StateModel).NextState(s.draw, Input{At: at, Tick: d.g.k, State: &obs.st, Version: obs.version, Last: m.last, HasLast: m.hasLast})
		if err != nil && s.onError != nil {
			s.onError(d.name, m.name, err)
		}
	} else {
		v = model.Next(s.draw, at)
	}
	m.last, m.hasLast = v, true
	return v
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
		if s.groups[g.key] == g { // a reload between parts may have made another
			delete(s.groups, g.key)
		}
		return
	}
	g.k++
	g.due = g.at(g.k)
	s.heap.push(g)
}

// pcgSource is a rand.Source drawing from the PCG it points at.
type pcgSource struct{ pcg *rand.PCG }

func (p *pcgSource) Uint64() uint64 { return p.pcg.Uint64() }
