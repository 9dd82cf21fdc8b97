package transport

import (
	"log/slog"
	"sync"
	"time"
)

// Reasons given to PublishHooks.Dropped: why messages were given up.
const (
	// DropBufferFull: the outage buffer overflowed; the oldest were dropped.
	DropBufferFull = "buffer_full"
	// DropShutdown: Shutdown's deadline passed before the buffer was flushed.
	DropShutdown = "shutdown"
	// DropOutage: Drain gave up because the broker stayed unreachable
	// longer than it was allowed to wait.
	DropOutage = "outage_timeout"
	// DropFailed: a Publish call returned an error; its unconfirmed
	// messages are not retried by the publisher.
	DropFailed = "publish_failed"
)

// dropTexts explains each drop reason in the log.
var dropTexts = map[string]string{
	DropBufferFull: "outage buffer full, oldest dropped",
	DropShutdown:   "shutdown before the buffer could be flushed",
	DropOutage:     "the broker stayed unreachable too long",
	DropFailed:     "publish failed",
}

// dropLogEvery rate-limits the warning about outage-buffer drops: the first
// drop is logged at once, later ones summed up at most this often.
const dropLogEvery = 10 * time.Second

// dropLog accounts for the messages the publisher gives up: each is told
// to PublishHooks.Dropped at once, and logged as a warning, the first at
// once and later ones summed up at most every dropLogEvery. Safe for
// concurrent use.
type dropLog struct {
	hooks PublishHooks
	log   *slog.Logger
	buf   *outageBuffer // the log line says how full it is
	size  int           // and its capacity

	mu      sync.Mutex
	pending int // dropped and not logged yet
	total   int
	logged  time.Time
}

// add counts n given-up messages (reason: one of the Drop words) and
// warns, rate-limited.
func (d *dropLog) add(n int, reason string) {
	if n <= 0 {
		return
	}
	d.hooks.Dropped(n, reason)
	why := dropTexts[reason]
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending += n
	d.total += n
	if now := time.Now(); d.logged.IsZero() || now.Sub(d.logged) >= dropLogEvery {
		d.logLocked(why, now)
	}
}

// flush logs the drops not logged yet, explained by why.
func (d *dropLog) flush(why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logLocked(why, time.Now())
}

// logLocked reports the drops not yet logged. Called with mu held.
func (d *dropLog) logLocked(why string, now time.Time) {
	if d.pending == 0 {
		return
	}
	d.log.Warn("messages dropped", "reason", why, "dropped", d.pending,
		"dropped_total", d.total, "buffered", d.buf.Len(), "buffer_size", d.size)
	d.pending = 0
	d.logged = now
}
