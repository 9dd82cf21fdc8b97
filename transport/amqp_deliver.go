package transport

import (
	"errors"
	"fmt"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

const (
	// reconnectPoll is how often a waiter looks at the connection when no
	// event tells it more.
	reconnectPoll = 100 * time.Millisecond
	// retryPause spaces the attempts of one call after a failure.
	retryPause = 50 * time.Millisecond
)

// deliver publishes items in order until all are confirmed, retrying failed
// attempts on another channel. It returns the items not sent (rest): with
// a nil error because the connection is down (the caller buffers them), or
// with the error that ended it (deadline, permanent failure). retry holds
// the confirmed items the broker returned inside the rebind window (see
// settle), for the caller to put back in the buffer.
func (p *amqpPublisher) deliver(items []pubItem, deadline time.Time) (rest, retry []pubItem, err error) {
	attempt := max(p.cfg.PublishTimeout/2, time.Millisecond)
	for len(items) > 0 {
		s := p.live()
		if s == nil {
			return items, retry, nil
		}
		wait := min(time.Until(deadline), attempt)
		if wait <= 0 {
			return items, retry, fmt.Errorf("publish: %d messages unconfirmed after %s: %w", len(items), p.cfg.PublishTimeout, errPublishTimeout)
		}
		pc, err := p.take(s, wait)
		if err != nil {
			if errors.Is(err, ErrPermanent) {
				return items, retry, err
			}
			p.failed(err)
			// A pause, not an event: the channel could not be opened on a
			// connection that is still up. The session's end cuts it short.
			sleepUntil(earliest(deadline, time.Now().Add(reconnectPoll)), s.dead)
			continue
		}
		n, returned, err := pc.send(items, wait)
		p.pool.put(pc)
		retry = append(retry, p.settle(items[:n], returned)...)
		items = items[n:]
		if err != nil {
			if errors.Is(err, ErrPermanent) {
				return items, retry, err
			}
			p.failed(err)
			// A broker that nacks everything must not be hammered in a loop.
			sleepUntil(earliest(deadline, time.Now().Add(retryPause)), s.dead)
		}
	}
	return nil, retry, nil
}

// settle accounts for the first items of a send, which the broker
// confirmed: returned holds what it returned as unroutable. Messages that
// were routed count as published. Returned ones inside the rebind window
// are handed back for the buffer (retry); outside it they count as
// unroutable. Each message is counted once, in one of the two.
func (p *amqpPublisher) settle(items []pubItem, returned []amqp091.Return) (retry []pubItem) {
	idx, rets := matchReturns(items, returned)
	if len(idx) == 0 {
		p.count(items)
		return nil
	}
	isReturned := make([]bool, len(items))
	for _, i := range idx {
		isReturned[i] = true
	}
	routed := make([]pubItem, 0, len(items)-len(idx))
	for i, it := range items {
		if !isReturned[i] {
			routed = append(routed, it)
		}
	}
	p.count(routed)
	wait, ok := p.rebind.retry(time.Now())
	if !ok {
		for _, r := range rets {
			p.noteUnroutable(r)
		}
		return nil
	}
	retry = make([]pubItem, 0, len(idx))
	for _, i := range idx {
		retry = append(retry, items[i])
		p.hooks.PublishFailed("unroutable")
	}
	if !p.rebindLogged.Swap(true) { // once per window at info
		p.log.Info("messages unroutable soon after a reconnect: retrying them while receivers bind again (further rounds at debug)",
			"messages", len(retry), "retry_in", wait.Round(time.Millisecond), "rebind_window", p.rebind.window)
	} else {
		p.log.Debug("messages unroutable within the rebind window: retrying", "messages", len(retry), "retry_in", wait.Round(time.Millisecond))
	}
	return retry
}

// take gets a channel of the pool that is open on session s, opening one
// when the slot's channel is gone or belongs to an older connection.
func (p *amqpPublisher) take(s *session, wait time.Duration) (*pubChannel, error) {
	pc, ok := p.pool.get(wait)
	if !ok {
		return nil, fmt.Errorf("wait for a free channel: %w", errPublishTimeout)
	}
	if pc != nil && pc.sess == s && !pc.broken.Load() && !pc.ch.IsClosed() {
		return pc, nil
	}
	if pc != nil {
		pc.kill()
	}
	npc, err := openChannel(s, p.channelConfig(), wait, p.noteUnroutable)
	if err != nil {
		p.pool.put(nil)
		return nil, err
	}
	return npc, nil
}

// channelConfig is how the publisher's channels publish.
func (p *amqpPublisher) channelConfig() channelConfig {
	return channelConfig{exchange: p.cfg.Exchange, confirm: p.cfg.Confirm, mandatory: p.cfg.Mandatory}
}

// count reports confirmed (or, without confirms, written) messages to the
// hooks, one call per run of the same routing key.
func (p *amqpPublisher) count(items []pubItem) {
	for len(items) > 0 {
		n := 1
		for n < len(items) && items[n].key == items[0].key {
			n++
		}
		p.hooks.Published(items[0].key, n)
		items = items[n:]
	}
}

// failed reports a failed attempt; the messages are retried.
func (p *amqpPublisher) failed(err error) {
	reason := "closed"
	switch {
	case errors.Is(err, errPublishTimeout):
		reason = "timeout"
	case errors.Is(err, errNack):
		reason = "nack"
	case errors.Is(err, amqp091.ErrClosed), errors.Is(err, errChannelClosed):
		reason = "closed"
	default:
		reason = "error"
	}
	p.hooks.PublishFailed(reason)
	p.log.Debug("publish attempt failed, retrying", "reason", reason, "error", err)
}

// live returns the current session while its connection is up, else nil.
func (p *amqpPublisher) live() *session {
	if s := p.sess.Load(); s != nil && s.alive() {
		return s
	}
	return nil
}

// noteUnroutable counts a returned message. The log has the first one,
// then a summary line a minute while they go on: with nothing bound, every
// message of every deployment comes back, and a line each would bury the
// log (100,000 deployments, 100,000 lines a tick).
func (p *amqpPublisher) noteUnroutable(r amqp091.Return) {
	p.hooks.Unroutable(r.RoutingKey)
	if !p.unroutable.Warn(r.RoutingKey, "exchange", r.Exchange, "routing_key", r.RoutingKey, "reply", r.ReplyText) {
		p.log.Debug("message unroutable", "routing_key", r.RoutingKey)
	}
}

// closeChannels closes the pool's idle channels, each bounded by closeGrace.
func (p *amqpPublisher) closeChannels() {
	for _, pc := range p.pool.drain() {
		pc.kill()
	}
}

func sleepUntil(t time.Time, wake <-chan struct{}) {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-wake:
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
