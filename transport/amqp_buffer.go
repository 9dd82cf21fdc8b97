package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

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
// once Shutdown has given up on the buffer, drops them) and accounts for
// what overflow dropped.
func (p *amqpPublisher) buffer(items []pubItem, front bool) {
	if p.drained.Load() {
		p.dropped(len(items), "publisher shut down")
		return
	}
	var n int
	if front {
		n = p.buf.pushFront(items)
	} else {
		n = p.buf.push(items)
	}
	if n > 0 {
		p.dropped(n, "outage buffer full, oldest dropped")
	}
}

// dropped counts n given-up messages and warns, rate-limited.
func (p *amqpPublisher) dropped(n int, why string) {
	p.obs.Dropped(n)
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
// buffer is empty, the connection drops again or deadline passes. One flush
// runs at a time (flushSem); a caller that cannot start one before
// deadline gets errFlushBusy.
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
	for p.buf.Len() > 0 {
		batch = p.buf.popFront(batch[:0], flushBatch)
		d := earliest(deadline, time.Now().Add(p.cfg.PublishTimeout))
		rest, err := p.deliver(batch, d)
		if len(rest) > 0 || err != nil {
			p.buffer(rest, true)
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
	if p.live() != nil && p.buf.Len()+len(items) > p.cfg.Buffer {
		return true, fmt.Errorf("publish: %d messages: outage buffer still draining after %s: %w", len(items), p.cfg.PublishTimeout, errPublishTimeout)
	}
	p.buffer(items, false)
	return true, nil
}

// drainLoop flushes after a reconnect until the buffer is empty, the
// session dies or the publisher stops.
func (p *amqpPublisher) drainLoop(s *session) {
	for p.draining() && s.alive() {
		err := p.flush(time.Now().Add(p.cfg.PublishTimeout))
		switch {
		case err == nil, errors.Is(err, errFlushBusy):
		default:
			p.log.Warn("flush outage buffer, retrying", "error", err, "buffered", p.buf.Len())
			sleepUntil(time.Now().Add(time.Second), p.stop)
		}
		select {
		case <-p.stop:
			return
		default:
		}
	}
}

// Shutdown closes the publisher: new Publish calls fail, calls in flight
// finish, and buffered messages are flushed (waiting for a reconnect if
// needed) until ctx is done. Whatever is still buffered then is counted
// as dropped and logged. Channels are closed; the connection is not (it
// belongs to the caller). Only the first call does the work; later calls
// return nil at once. Safe for concurrent use.
func (p *amqpPublisher) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	first := !p.closed
	p.closed = true
	p.mu.Unlock()
	if !first {
		return nil
	}
	waitDone(ctx, &p.inflight)
	// A permanent failure (the exchange refused after a reconnect) will not
	// clear by waiting: count the buffer as dropped at once.
	for p.draining() && ctx.Err() == nil && p.perm.Load() == nil {
		if p.live() == nil {
			sleepCtx(ctx, reconnectPoll)
			continue
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(p.cfg.PublishTimeout)
		}
		if err := p.flush(deadline); err != nil && !errors.Is(err, errFlushBusy) {
			p.log.Warn("shutdown: flushing buffered messages failed", "error", err)
			sleepCtx(ctx, reconnectPoll)
		}
	}
	p.drained.Store(true)
	if n := p.buf.clear(); n > 0 {
		p.dropped(n, "shutdown before the buffer could be flushed")
	}
	p.dropMu.Lock()
	p.logDropsLocked("shutdown", time.Now())
	p.dropMu.Unlock()
	p.unroutable.Flush()
	close(p.stop)
	p.closeChannels()
	return nil
}

// Close is Shutdown with a deadline of one PublishTimeout. It may be called
// any number of times; it never closes the connection.
func (p *amqpPublisher) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.PublishTimeout)
	defer cancel()
	return p.Shutdown(ctx)
}

// waitDone waits for wg or ctx, whichever comes first.
func waitDone(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
