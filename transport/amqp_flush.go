package transport

import (
	"errors"
	"fmt"
	"time"
)

// flushBatch is how many buffered messages one flush step sends.
const flushBatch = 1000

var errFlushBusy = errors.New("another flush is running")

// buffer puts the messages of a Publish call into the outage buffer (or,
// once Shutdown or Drain has given up on the buffer, drops them) and
// accounts for what overflow dropped.
func (p *amqpPublisher) buffer(items []pubItem, front bool) {
	if why := p.drained.Load(); why != nil {
		p.drops.add(len(items), *why)
		return
	}
	var n int
	if front {
		n = p.buf.pushFront(items)
	} else {
		n = p.buf.push(items)
	}
	if n > 0 {
		p.drops.add(n, DropBufferFull)
	}
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
		p.drops.add(len(items), DropFailed)
		return true, fmt.Errorf("publish: %d messages: outage buffer still draining after %s: %w", len(items), p.cfg.PublishTimeout, errPublishTimeout)
	}
	p.buffer(items, false)
	return true, nil
}

// requeue puts messages returned inside the rebind window back in front of
// the buffer and makes sure a drain will send them once the hold ends.
func (p *amqpPublisher) requeue(retry []pubItem) {
	if len(retry) == 0 {
		return
	}
	p.buffer(retry, true)
	p.kick()
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
		p.drops.flush(dropTexts[DropBufferFull])
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
