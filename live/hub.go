package live

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// Info is what the page says of the run that is known before it starts.
type Info struct {
	Run         string
	Seed        int64
	Shard       generator.Shard
	Interval    time.Duration
	Deployments int
	Control     bool // --enable-control: the page shows its buttons
}

// Totals are the run's message counts, as the stopped line reports them.
type Totals struct {
	Published, Dropped, Unroutable int
}

// Readings are the process's own counters the page shows, read where
// /metrics reads them. Methods must be safe for concurrent use.
type Readings interface {
	Totals() Totals
	BrokerConnected() bool
	LastTickLag() time.Duration
}

// Schedule is what the page reads of the running schedule;
// *generator.Schedule is one.
type Schedule interface {
	SnapshotOf(app string) (generator.DeploymentState, bool)
	Names() []string
}

// Injector is what the page reads of the fault injector;
// *generator.Injector is one.
type Injector interface {
	Count(kind generator.FaultKind) uint64
	Faults(app string) (*generator.Faults, string)
}

// Run is the running schedule and what goes with it, given to Start once
// they exist (the HTTP server starts before the broker is reached).
type Run struct {
	Start    time.Time
	Schedule Schedule
	Injector Injector       // nil: no faults
	Judge    *judge.Tracker // nil: not judged (no --feedback)
	// MaxReaction is --max-reaction, which the summary line's hpa_late
	// counts against (0: none).
	MaxReaction time.Duration
}

// Config configures a Hub.
type Config struct {
	Info Info
	// Readings may be nil: the page then shows 0 and disconnected.
	Readings Readings
	// Every is how often a stream sends the run's numbers and new points.
	// Default 1s.
	Every time.Duration
	// MaxSelected bounds the deployments one stream follows. Default 16.
	MaxSelected int
	// Points is a stream's ring size when it asks for none; MaxPoints the
	// most it may ask for. Defaults 120 and 1000.
	Points, MaxPoints int
	// RecentFaults is how many fault hits the faults event lists. Default 50.
	RecentFaults int
}

func (c *Config) setDefaults() {
	c.Every = cmpOr(c.Every, time.Second)
	c.MaxSelected = cmpOr(c.MaxSelected, 16)
	c.Points = cmpOr(c.Points, 120)
	c.MaxPoints = cmpOr(c.MaxPoints, 1000)
	c.RecentFaults = cmpOr(c.RecentFaults, 50)
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate reports every problem of c, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Every < 0 {
		errs = append(errs, fmt.Errorf("Every %s: must be > 0", c.Every))
	}
	if c.MaxSelected < 0 || c.Points < 0 || c.MaxPoints < 0 || c.RecentFaults < 0 {
		errs = append(errs, errors.New("MaxSelected, Points, MaxPoints, RecentFaults: must be >= 0"))
	}
	if c.Points > c.MaxPoints && c.MaxPoints > 0 {
		errs = append(errs, fmt.Errorf("Points %d: must be <= MaxPoints %d", c.Points, c.MaxPoints))
	}
	return errors.Join(errs...)
}

// Hub is the live page's state: what the streams read, and rings of
// points kept only for the deployments some connected stream follows.
// Its hooks (Sent, Faulted, Fate, TickHook) are called by the send loop and
// the judge; they never block on a browser and do nothing but count
// ticks while no stream follows anything. Safe for concurrent use.
type Hub struct {
	cfg    Config
	logger *slog.Logger

	run       atomic.Pointer[Run]
	started   chan struct{} // closed by Start
	done      chan struct{} // closed by Close
	once      sync.Once
	startOnce sync.Once

	clients  atomic.Int32 // connected streams
	watching atomic.Int32 // followed deployments (len(series))
	ticks    atomic.Int64

	mu     sync.Mutex
	series map[string]*series
	recent *ring[faultHit] // nil while no stream is connected

	judgeMu    sync.Mutex
	judgeAt    time.Time
	judgeLast  judgeDoc
	judgeFinal *judge.Report // the report the run ended with (Ended)
}

// series is what the Hub keeps of one followed deployment.
type series struct {
	refs      int
	points    *ring[point]
	states    *ring[stateSample]
	fates     *ring[fateDoc]
	lastState *stateDoc
}

// New returns a Hub; it fails when cfg is invalid. A nil logger discards.
func New(cfg Config, logger *slog.Logger) (*Hub, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("live page config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: cfg, logger: logger.With("component", "live"), started: make(chan struct{}), done: make(chan struct{}),
		series: map[string]*series{}}, nil
}

// Start gives the Hub the running schedule; streams that waited for it
// go on. Only the first call counts.
func (h *Hub) Start(r Run) {
	h.startOnce.Do(func() {
		h.run.Store(&r)
		close(h.started)
	})
}

// Ended gives the Hub the report send judged the run with (its summary
// line): the last judge event shows exactly it.
func (h *Hub) Ended(rep judge.Report) {
	h.judgeMu.Lock()
	h.judgeFinal = &rep
	h.judgeMu.Unlock()
}

// Close ends every stream (each sends its last numbers and an end event)
// and refuses new ones; call it when the run has ended, before the HTTP
// server shuts down. Calling it again does nothing.
func (h *Hub) Close() { h.once.Do(func() { close(h.done) }) }

// TickHook returns the send loop's Tick hook: it counts the tick, then
// calls next (when not nil).
func (h *Hub) TickHook(next func(lag time.Duration, events []generator.Event)) func(time.Duration, []generator.Event) {
	return func(lag time.Duration, events []generator.Event) {
		h.ticks.Add(1)
		if next != nil {
			next(lag, events)
		}
	}
}

// SentHook returns the send loop's Sent hook: next (when not nil), then
// Sent.
func (h *Hub) SentHook(next func(events []generator.Event, at time.Time)) func([]generator.Event, time.Time) {
	return func(events []generator.Event, at time.Time) {
		if next != nil {
			next(events, at)
		}
		h.Sent(events, at)
	}
}

// Sent records the points of followed deployments among events, the
// messages that went on the wire at at (the send loop's Sent hook).
// Extra copies (duplicate, burst) are not points. events may be reused
// once it returns.
func (h *Hub) Sent(events []generator.Event, at time.Time) {
	if h.watching.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range events {
		ev := &events[i]
		s := h.series[ev.App]
		if s == nil || isCopy(ev.Fault) {
			continue
		}
		values := make(map[string]string, len(ev.Metrics))
		for _, m := range ev.Metrics {
			values[m.Name] = m.Value.Text
		}
		s.points.push(point{Seq: ev.Seq, TMS: at.UnixMilli(), Values: values, Fault: ev.Fault})
	}
}

// isCopy reports whether fault marks an injected extra copy.
func isCopy(fault string) bool {
	return fault == string(generator.FaultDuplicate) || fault == string(generator.FaultBurst)
}

// Faulted records where faults hit, from a batch as the injector made it
// (the send loop's Faulted hook): the recent hits while a stream is
// connected, and a point for each message a fault suppressed of a
// followed deployment.
func (h *Hub) Faulted(events []generator.Event) {
	if h.clients.Load() == 0 {
		return
	}
	now := time.Now().UnixMilli()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range events {
		ev := &events[i]
		if ev.Fault == "" {
			continue
		}
		if h.recent != nil {
			h.recent.push(faultHit{App: ev.App, Seq: ev.Seq, Kinds: ev.Fault, TMS: now})
		}
		if s := h.series[ev.App]; s != nil && ev.Suppressed {
			s.points.push(point{Seq: ev.Seq, TMS: now, Fault: ev.Fault})
		}
	}
}

// Fate implements judge.Fates: it records the fates of followed
// deployments' requests.
func (h *Hub) Fate(f judge.Fate) {
	if h.watching.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.series[f.App]; s != nil {
		s.fates.push(fateOf(f))
	}
}

var _ judge.Fates = (*Hub)(nil)

// follow makes sure names have series of at least n points, counting a
// reference each, and returns the names whose series it made; unfollow
// drops them.
func (h *Hub) follow(names []string, n int) (made []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range names {
		s := h.series[name]
		if s == nil {
			s = &series{points: newRing[point](n), states: newRing[stateSample](n), fates: newRing[fateDoc](n)}
			h.series[name] = s
			made = append(made, name)
		}
		s.refs++
		s.points, s.states, s.fates = s.points.grown(n), s.states.grown(n), s.fates.grown(n)
	}
	h.watching.Store(int32(len(h.series)))
	return made
}

// openBefore records, for a deployment just followed, the requests the
// judge has open (opened before it was followed), unless their fate came
// in meanwhile.
func (h *Hub) openBefore(name string, open []judge.Fate) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.series[name]
	if s == nil {
		return
	}
	held, _ := s.fates.since(0, -1)
	for _, f := range open {
		d := fateOf(f)
		if !slices.ContainsFunc(held, func(h fateDoc) bool { return h.Metric == d.Metric && h.OpenedMS == d.OpenedMS }) {
			s.fates.push(d)
		}
	}
}

func (h *Hub) unfollow(names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range names {
		if s := h.series[name]; s != nil {
			if s.refs--; s.refs <= 0 {
				delete(h.series, name)
			}
		}
	}
	h.watching.Store(int32(len(h.series)))
}

// connect counts a stream; the first one starts the recent fault hits.
// disconnect undoes it; the last one drops them.
func (h *Hub) connect() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients.Add(1) == 1 {
		h.recent = newRing[faultHit](h.cfg.RecentFaults)
	}
}

func (h *Hub) disconnect() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients.Add(-1) == 0 {
		h.recent = nil
	}
}

// Following returns how many deployments have series, and how many
// points they hold in all (for tests and the README's costs).
func (h *Hub) Following() (deployments, points int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.series {
		points += s.points.held
	}
	return len(h.series), points
}

// names lists the deployments containing filter (case-insensitive),
// sorted, at most limit, and how many matched in all.
func names(all []string, filter string, limit int) (out []string, matched int) {
	filter = strings.ToLower(filter)
	out = []string{}
	for _, n := range all {
		if filter != "" && !strings.Contains(strings.ToLower(n), filter) {
			continue
		}
		matched++
		if len(out) < limit {
			out = append(out, n)
		}
	}
	return out, matched
}
