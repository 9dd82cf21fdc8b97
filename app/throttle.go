package app

import (
	"log/slog"
	"sync"
	"time"
)

// throttledWarn logs a warning that can repeat per tick or per deployment
// (DESIGN: "the first one, then one summary line per minute while it goes
// on"): the first occurrence at once, then at most one line per period
// saying how many more there were, with the latest one's attributes. A
// summary is written when an occurrence finds the period over, or by
// flush. A counter on /metrics counts every occurrence; this only keeps
// the log readable. Safe for concurrent use.
//
// It is private to app until the shared throttled-warnings package lands.
type throttledWarn struct {
	logger *slog.Logger
	msg    string
	period time.Duration
	now    func() time.Time

	mu      sync.Mutex
	started bool
	last    time.Time // when a line was last written
	pending int       // occurrences since then, not written
	attrs   []any     // the latest pending occurrence's
}

func newThrottledWarn(logger *slog.Logger, msg string, period time.Duration) *throttledWarn {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &throttledWarn{logger: logger, msg: msg, period: period, now: time.Now}
}

// warn records one occurrence described by attrs (slog key-value pairs).
func (w *throttledWarn) warn(attrs ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if !w.started {
		w.started, w.last = true, now
		w.logger.Warn(w.msg, attrs...)
		return
	}
	w.pending++
	w.attrs = attrs
	if now.Sub(w.last) >= w.period {
		w.flushLocked(now)
	}
}

// flush writes the summary of occurrences not yet written, if any.
func (w *throttledWarn) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked(w.now())
}

func (w *throttledWarn) flushLocked(now time.Time) {
	if w.pending == 0 {
		return
	}
	args := []any{"more", w.pending, "over", now.Sub(w.last).Round(time.Second).String(), slog.Group("latest", w.attrs...)}
	w.logger.Warn(w.msg+" (repeated)", args...)
	w.pending, w.attrs, w.last = 0, nil, now
}
