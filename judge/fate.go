package judge

import (
	"slices"
	"strings"
	"time"
)

// FateKind is where a request stands: open, or how it ended.
type FateKind string

// The fates of a request.
const (
	FateOpen       FateKind = "open"
	FateApplied    FateKind = "applied"
	FateSuperseded FateKind = "superseded"
)

// Fate is one change of one request: it opened, was applied or was
// superseded. A request is told of twice: open, then its end; Opened (and
// App, Metric) names it in both.
type Fate struct {
	App, Metric string
	// Value is the value requested, in base units.
	Value  float64
	Opened time.Time
	Kind   FateKind
	// Ended is when it was applied or superseded; zero while open.
	Ended time.Time
	// Reaction is Ended minus Opened, for an applied request.
	Reaction time.Duration
}

// Fates is told of each request's fate with its deployment, for the live
// page. Fate is called with the tracker's lock held: it must not block
// and must not call the tracker.
type Fates interface {
	Fate(f Fate)
}

// fate tells t.cfg.Fates, when set, of f; t.mu is held.
func (t *Tracker) fate(k reqKey, r *request, kind FateKind, ended time.Time) {
	if t.cfg.Fates == nil {
		return
	}
	f := Fate{App: k.app, Metric: k.metric, Value: r.value, Opened: r.at, Kind: kind, Ended: ended}
	if kind == FateApplied {
		f.Reaction = max(ended.Sub(r.at), 0)
	}
	t.cfg.Fates.Fate(f)
}

// OpenOf returns app's requests still open, as FateOpen fates sorted by
// metric: what a page that starts following app marks as open. Safe for
// concurrent use.
func (t *Tracker) OpenOf(app string) []Fate {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Fate
	for k, r := range t.open {
		if k.app == app {
			out = append(out, Fate{App: app, Metric: k.metric, Value: r.value, Opened: r.at, Kind: FateOpen})
		}
	}
	slices.SortFunc(out, func(a, b Fate) int { return strings.Compare(a.Metric, b.Metric) })
	return out
}
