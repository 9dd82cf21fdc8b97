package judge

import "time"

// trend follows one deployment's replicas for oscillations: the observed
// ones, and the requested ones (values sent for the replicas target).
type trend struct {
	value     float64 // observed
	dir       int     // of the last change of value: 1 up, -1 down, 0 none yet
	changedAt time.Time
	seen      bool

	asked    float64 // the latest replicas requested
	askedDir int     // of the latest change of asked, against the one before
	askedAt  time.Time
	// requested is set once replicas were requested, or an autoscaler's
	// rules called for a count: until then (an HPA scaling on cpu that is
	// not judged, say) every turn within the window is an oscillation.
	requested bool
}

func (t *Tracker) trendOf(app string) *trend { return entry(t.trends, app) }

// asked follows the replicas requested of app: v sent at at, while
// observed replicas were observed (the first request's direction is
// against those); t.mu is held.
func (t *Tracker) asked(app string, v, observed float64, at time.Time) {
	tr := t.trendOf(app)
	prev := tr.asked
	if !tr.requested {
		prev, tr.requested = observed, true
	}
	if d := direction(prev, v); d != 0 {
		tr.askedDir, tr.askedAt = d, at
	}
	tr.asked = v
}

// follow counts an oscillation when app's observed replicas turn around
// within the window since their last change, unless the turn obeys the
// requests; before is what was observed until now (the config's state at
// first, so that the first answer already has a direction); t.mu is held.
func (t *Tracker) follow(app string, before, v float64, at time.Time) {
	tr := t.trendOf(app)
	if !tr.seen {
		tr.value, tr.seen, tr.changedAt = before, true, at
	}
	dir := direction(tr.value, v)
	if dir == 0 {
		return
	}
	if tr.dir != 0 && dir != tr.dir && at.Sub(tr.changedAt) <= t.cfg.OscillationWindow && !tr.obeys(dir, v, at, t.cfg.OscillationWindow) {
		t.oscillations++
		if t.cfg.Hooks != nil {
			t.cfg.Hooks.Oscillated()
		}
	}
	tr.value, tr.dir, tr.changedAt = v, dir, at
}

// obeys reports whether the observed replicas turning to v (in dir) at at
// is obedience: the requested replicas turned the same way within window
// before it (their latest change went in dir), and v does not go past the
// latest request. A turn against the requests, or beyond them (an
// overshoot, then the way back), is not; nor is any turn of replicas
// nobody requests.
func (tr *trend) obeys(dir int, v float64, at time.Time, window time.Duration) bool {
	if !tr.requested || tr.askedDir != dir || tr.askedAt.After(at) || at.Sub(tr.askedAt) > window {
		return false
	}
	if dir > 0 {
		return v <= tr.asked
	}
	return v >= tr.asked
}

// direction is 1 when to is above from, -1 below, 0 equal.
func direction(from, to float64) int {
	switch {
	case to > from:
		return 1
	case to < from:
		return -1
	}
	return 0
}
