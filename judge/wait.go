package judge

import (
	"context"
	"time"
)

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
// the newest open one was made, or ctx ends. When the wait ran out it
// returns the time it ran out at (the newest open request's time plus
// wait): every request still open then has waited wait or more. Otherwise
// it returns the zero time.
func (t *Tracker) WaitSettled(ctx context.Context, wait time.Duration) time.Time {
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
			return time.Time{}
		}
		deadline := newest.Add(wait)
		left := deadline.Sub(t.cfg.Clock.Now())
		if left <= 0 {
			return deadline
		}
		select {
		case <-ctx.Done():
			return time.Time{}
		case <-changed:
		case <-t.cfg.Clock.After(left):
		}
	}
}

// End judges the run at its end. With wait (the natural end of a --count
// run) and maxReaction > 0 it first waits until no request is open or
// maxReaction has passed since the newest (WaitSettled); a ctx that ends
// skips the rest of the wait, not the judging. The report is taken at the
// clock's time, and never before the wait ran out: a request still open
// when the wait for it ran out is late, whatever the timers did.
func (t *Tracker) End(ctx context.Context, maxReaction time.Duration, wait bool) Report {
	var ranOut time.Time
	if wait && maxReaction > 0 {
		ranOut = t.WaitSettled(ctx, maxReaction)
	}
	now := t.cfg.Clock.Now()
	if now.Before(ranOut) {
		now = ranOut
	}
	return t.Report(now, maxReaction)
}
