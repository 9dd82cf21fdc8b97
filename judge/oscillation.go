package judge

import "time"

// trend follows one deployment's observed replicas for oscillations.
type trend struct {
	value     float64
	dir       int
	changedAt time.Time
	seen      bool
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
