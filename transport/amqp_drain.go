package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// errOutageTooLong is returned by Drain when the broker stayed unreachable
// longer than it was allowed to wait.
var errOutageTooLong = errors.New("broker unreachable too long")

// Drain waits until every message handed to Publish so far is settled:
// confirmed (published), counted as unroutable, or dropped. It waits
// through outages, reconnects and rebind windows (messages returned as
// unroutable soon after a reconnect are retried until the window ends). It
// is the natural end of a bounded run; Shutdown is the end on a signal.
//
// It returns nil once nothing is buffered or in flight; ctx's error when
// ctx ends first (the messages stay buffered: call Shutdown); an error
// wrapping the permanent one when the exchange is refused after a
// reconnect (waiting cannot help: the buffer is counted as dropped,
// DropFailed); and, when maxOutage > 0 and the current outage has lasted
// maxOutage, an error saying so, after it counted every buffered message
// as dropped (DropOutage). maxOutage 0 waits for the broker as long as ctx
// allows.
//
// Call it after the last Publish returned: calls still running are not
// waited for. Publish keeps working meanwhile. Safe for concurrent use.
func (p *amqpPublisher) Drain(ctx context.Context, maxOutage time.Duration) error {
	err := p.waitDrained(ctx, maxOutage)
	reason := DropOutage
	switch {
	case errors.Is(err, errOutageTooLong):
	case errors.Is(err, ErrPermanent):
		reason = DropFailed
	default:
		return err
	}
	n := p.buf.Len()
	p.drained.Store(&reason) // what a flush still holds is dropped when it comes back
	p.drops.add(p.buf.clear(), reason)
	p.drops.flush(dropTexts[reason])
	if reason == DropFailed {
		return fmt.Errorf("drain: gave up on %d buffered messages: %w", n, err)
	}
	return fmt.Errorf("drain: the broker has been unreachable for %s: gave up on %d buffered messages: %w",
		maxOutage, n, err)
}

// waitDrained flushes until nothing is buffered or being flushed. It waits
// for the reconnect event while the broker is down (at most until the
// outage has lasted maxOutage, when > 0: errOutageTooLong) and for the
// end of a rebind backoff step while the buffer is held. It returns nil
// when drained, ctx's error, or the permanent error of a refused exchange.
func (p *amqpPublisher) waitDrained(ctx context.Context, maxOutage time.Duration) error {
	for p.draining() {
		up := p.upEvent() // first: a reconnect or refusal after the looks below wakes us
		if perr := p.perm.Load(); perr != nil {
			return *perr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s := p.live()
		if s == nil {
			if err := p.waitReconnect(ctx, up, maxOutage); err != nil {
				return err
			}
			continue
		}
		if at := p.rebind.heldUntil(); time.Now().Before(at) {
			_ = waitUntil(at, s.dead, ctx.Done())
			continue
		}
		deadline := time.Now().Add(p.cfg.PublishTimeout)
		if d, ok := ctx.Deadline(); ok {
			deadline = earliest(deadline, d)
		}
		if err := p.flush(deadline); err != nil && !errors.Is(err, errFlushBusy) {
			p.flushFail.Warn(err.Error(), "error", err, "buffered", p.buf.Len())
			// A pause, not an event: the failure (a timeout, a nack) gives
			// no sign of when a new attempt would do better.
			_ = waitUntil(time.Now().Add(retryPause), s.dead, ctx.Done())
		}
	}
	return nil
}

// waitReconnect waits for up (the next session, or a permanent refusal
// of the new connection), ctx, or the outage to reach maxOutage (> 0):
// then errOutageTooLong.
func (p *amqpPublisher) waitReconnect(ctx context.Context, up <-chan struct{}, maxOutage time.Duration) error {
	var limit <-chan time.Time
	if maxOutage > 0 {
		left := maxOutage - time.Since(p.downSince())
		if left <= 0 {
			return errOutageTooLong
		}
		t := time.NewTimer(left)
		defer t.Stop()
		limit = t.C
	}
	select {
	case <-up:
		return nil
	case <-limit:
		return errOutageTooLong
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown closes the publisher: new Publish calls fail, calls in flight
// finish, and buffered messages are flushed (waiting for a reconnect if
// needed) until ctx is done. Whatever is still buffered then is counted
// as dropped (DropShutdown) and logged. Channels are closed; the
// connection is not (it belongs to the caller). Only the first call does
// the work; later calls return nil at once. Safe for concurrent use.
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
	// clear by waiting: waitDrained returns at once and the buffer counts
	// as dropped.
	if err := p.waitDrained(ctx, 0); err != nil && ctx.Err() == nil {
		p.log.Warn("shutdown: buffered messages cannot be flushed", "error", err)
	}
	why := DropShutdown
	p.drained.CompareAndSwap(nil, &why)
	p.drops.add(p.buf.clear(), DropShutdown)
	p.drops.flush(dropTexts[DropShutdown])
	p.unroutable.Flush()
	p.flushFail.Flush()
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
