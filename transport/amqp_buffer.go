package transport

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

// outageBuffer is the bounded FIFO where messages wait while the broker is
// unreachable. Pushing past its capacity drops the oldest messages. Safe for
// concurrent use.
type outageBuffer struct {
	capacity int
	n        atomic.Int64 // len(q) - head, readable without the lock

	mu   sync.Mutex
	q    []pubItem
	head int
}

func newOutageBuffer(capacity int) *outageBuffer {
	return &outageBuffer{capacity: max(capacity, 1)}
}

// Len is the number of waiting messages.
func (b *outageBuffer) Len() int { return int(b.n.Load()) }

// push appends items after the waiting ones and returns how many of the
// oldest were dropped to stay within capacity.
func (b *outageBuffer) push(items []pubItem) (dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.q = append(b.q, items...)
	return b.trimLocked()
}

// pushFront puts items back before the waiting ones (a flush that was cut
// off), keeping their place in the order. On overflow the oldest (the
// front of items) are dropped.
func (b *outageBuffer) pushFront(items []pubItem) (dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := make([]pubItem, 0, len(items)+len(b.q)-b.head)
	q = append(q, items...)
	b.q = append(q, b.q[b.head:]...)
	b.head = 0
	return b.trimLocked()
}

// trimLocked drops the oldest messages beyond capacity and compacts.
func (b *outageBuffer) trimLocked() (dropped int) {
	if over := len(b.q) - b.head - b.capacity; over > 0 {
		clear(b.q[b.head : b.head+over])
		b.head += over
		dropped = over
	}
	b.compactLocked()
	return dropped
}

func (b *outageBuffer) compactLocked() {
	if b.head > 0 && b.head >= len(b.q)/2 {
		n := copy(b.q, b.q[b.head:])
		clear(b.q[n:])
		b.q = b.q[:n]
		b.head = 0
	}
	b.n.Store(int64(len(b.q) - b.head))
}

// popFront removes up to limit of the oldest messages, appending them to dst.
func (b *outageBuffer) popFront(dst []pubItem, limit int) []pubItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := min(b.head+limit, len(b.q))
	dst = append(dst, b.q[b.head:end]...)
	clear(b.q[b.head:end])
	b.head = end
	b.compactLocked()
	return dst
}

// clear empties the buffer and returns how many messages it held.
func (b *outageBuffer) clear() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.q) - b.head
	b.q, b.head = nil, 0
	b.n.Store(0)
	return n
}

// buffer puts the messages of a Publish call into the outage buffer (or,
// once Shutdown or Drain has given up on the buffer, drops them) and
// accounts for what overflow dropped.
func (p *amqpPublisher) buffer(items []pubItem, front bool) {
	if why := p.drained.Load(); why != nil {
		p.dropped(len(items), *why)
		return
	}
	var n int
	if front {
		n = p.buf.pushFront(items)
	} else {
		n = p.buf.push(items)
	}
	if n > 0 {
		p.dropped(n, DropBufferFull)
	}
}

// dropped counts n given-up messages (reason: one of the Drop words) and
// warns, rate-limited.
func (p *amqpPublisher) dropped(n int, reason string) {
	if n <= 0 {
		return
	}
	p.hooks.Dropped(n, reason)
	why := dropTexts[reason]
	p.dropMu.Lock()
	defer p.dropMu.Unlock()
	p.dropPending += n
	p.dropTotal += n
	if now := time.Now(); p.dropLogged.IsZero() || now.Sub(p.dropLogged) >= dropLogEvery {
		p.logDropsLocked(why, now)
	}
}

// logDropsLocked reports the drops not yet logged. Called with dropMu held.
func (p *amqpPublisher) logDropsLocked(why string, now time.Time) {
	if p.dropPending == 0 {
		return
	}
	p.log.Warn("messages dropped", "reason", why, "dropped", p.dropPending,
		"dropped_total", p.dropTotal, "buffered", p.buf.Len(), "buffer_size", p.cfg.Buffer)
	p.dropPending = 0
	p.dropLogged = now
}

// flush publishes the buffered messages in order, oldest first, until the
// buffer is empty, the connection drops again, deadline passes or the
// buffer is held (messages returned inside the rebind window wait for
// their backoff step: flush then returns nil with the buffer not empty).
// One flush runs at a time (flushSem); a caller that cannot start one
// before deadline gets errFlushBusy.
func (p *amqpPublisher) flush(deadline time.Time) error {
	select {
	case p.flushSem <- struct{}{}:
	default:
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case p.flushSem <- struct{}{}:
		case <-t.C:
			return errFlushBusy
		}
	}
	defer func() { <-p.flushSem }()
	// Set while popped messages are in flight, when the buffer may look
	// empty: Publish must wait for them too.
	p.flushing.Store(true)
	defer p.flushing.Store(false)
	batch := make([]pubItem, 0, min(p.buf.Len(), flushBatch))
	for p.buf.Len() > 0 && !p.rebind.held(time.Now()) {
		batch = p.buf.popFront(batch[:0], flushBatch)
		d := earliest(deadline, time.Now().Add(p.cfg.PublishTimeout))
		rest, retry, err := p.deliver(batch, d)
		if len(retry) > 0 {
			rest = append(retry, rest...) // in front: they are the older ones
		}
		if len(rest) > 0 || err != nil {
			p.buffer(rest, true)
			if len(retry) > 0 {
				p.kick()
			}
			return err
		}
	}
	return nil
}

// draining reports whether buffered messages wait or are being flushed.
func (p *amqpPublisher) draining() bool {
	return p.buf.Len() > 0 || p.flushing.Load()
}

// publishBehindBuffer is Publish while the outage buffer is not empty:
// the buffered messages go first. It helps flushing until deadline; if
// the buffer is still draining then (a slow broker, or the connection
// dropped again), items queue behind it, which keeps the order, unless
// that would overflow the buffer while connected: then it fails instead
// of dropping (backpressure).
func (p *amqpPublisher) publishBehindBuffer(items []pubItem, deadline time.Time) (done bool, err error) {
	_ = p.flush(deadline)
	if !p.draining() {
		return false, nil
	}
	if p.live() != nil && !p.rebind.held(time.Now()) && p.buf.Len()+len(items) > p.cfg.Buffer {
		p.dropped(len(items), DropFailed)
		return true, fmt.Errorf("publish: %d messages: outage buffer still draining after %s: %w", len(items), p.cfg.PublishTimeout, errPublishTimeout)
	}
	p.buffer(items, false)
	return true, nil
}

// kick makes sure a drainLoop runs while the connection is up and
// messages wait: after a reconnect, and when returned messages went back
// to the buffer.
func (p *amqpPublisher) kick() {
	s := p.live()
	if s == nil || !p.drainer.CompareAndSwap(false, true) {
		return
	}
	go func() {
		p.drainLoop(s)
		p.drainer.Store(false)
		select {
		case <-p.stop:
			return
		default:
		}
		// Messages may have come back between the loop's last look and the
		// flag's reset; the kick that brought them saw the flag still set.
		if p.draining() {
			p.kick()
		}
	}()
}

// drainLoop flushes until the buffer is empty, the session dies or the
// publisher stops, waiting out the rebind backoff when the buffer is held.
func (p *amqpPublisher) drainLoop(s *session) {
	defer func() {
		p.dropMu.Lock()
		p.logDropsLocked(dropTexts[DropBufferFull], time.Now())
		p.dropMu.Unlock()
	}()
	for p.draining() && s.alive() {
		if at := p.rebind.heldUntil(); time.Now().Before(at) {
			if !waitUntil(at, s.dead, p.stop) {
				return
			}
			continue
		}
		err := p.flush(time.Now().Add(p.cfg.PublishTimeout))
		switch {
		case err == nil, errors.Is(err, errFlushBusy):
		default:
			p.flushFail.Warn(err.Error(), "error", err, "buffered", p.buf.Len())
			// A pause, not an event: the failure (a timeout, a nack) gives
			// no sign of when a new attempt would do better.
			if !waitUntil(time.Now().Add(time.Second), s.dead, p.stop) {
				return
			}
		}
		select {
		case <-p.stop:
			return
		default:
		}
	}
}

// waitUntil waits until t; false when a or b is closed first.
func waitUntil(t time.Time, a, b <-chan struct{}) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-a:
		return false
	case <-b:
		return false
	}
}
