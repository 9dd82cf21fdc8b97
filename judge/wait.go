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
		left := newest.Add(wait).Sub(t.cfg.Clock.Now())
		if left <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.cfg.Clock.After(left):
		}
	}
}
