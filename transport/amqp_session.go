package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// session is one broker connection of the ConnectionWrapper as the
// publisher uses it: the exchange is declared on it once.
type session struct {
	conn *amqp091.Connection
	dead chan struct{} // closed when conn closes
}

func (s *session) alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

// newSession declares the exchange on c and watches c for close and
// connection.blocked. The declaration is bounded by PublishTimeout.
func (p *amqpPublisher) newSession(c *amqp091.Connection) (*session, error) {
	err := bounded(p.cfg.PublishTimeout, func() error {
		ch, err := c.Channel()
		if err != nil {
			return fmt.Errorf("open channel: %w", err)
		}
		defer func() { _ = ch.Close() }()
		return ch.ExchangeDeclare(p.cfg.Exchange, "topic", false, false, false, false, nil)
	})
	if err != nil {
		return nil, declareError(p.cfg.Exchange, err)
	}
	s := &session{conn: c, dead: make(chan struct{})}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	blocks := c.NotifyBlocked(make(chan amqp091.Blocking, 4))
	go p.watchSession(s, closes, blocks)
	return s, nil
}

// declareError explains a refused exchange declaration; 403 and 406 are
// permanent.
func declareError(exchange string, err error) error {
	var aerr *amqp091.Error
	if errors.As(err, &aerr) {
		switch aerr.Code {
		case amqp091.PreconditionFailed:
			return fmt.Errorf("declare exchange %q: inequivalent arguments (it exists with other flags; is-wire needs type topic, durable=false, auto_delete=false): %w (%w)", exchange, err, ErrPermanent)
		case amqp091.AccessRefused:
			return fmt.Errorf("declare exchange %q: access refused: %w (%w)", exchange, err, ErrPermanent)
		}
	}
	return fmt.Errorf("declare exchange %q: %w", exchange, err)
}

func (p *amqpPublisher) watchSession(s *session, closes <-chan *amqp091.Error, blocks <-chan amqp091.Blocking) {
	for {
		select {
		case b, ok := <-blocks:
			if !ok {
				blocks = nil
			} else if b.Active {
				p.log.Warn("broker blocked the connection (resource alarm): publishing waits", "reason", b.Reason)
			} else {
				p.log.Info("broker unblocked the connection")
			}
		case err := <-closes:
			close(s.dead)
			p.obs.Connection(false)
			if err != nil {
				p.log.Warn("broker connection lost: buffering messages until it is back", "error", err)
			}
			return
		}
	}
}

// run replaces the session after each connection loss: it waits for the
// ConnectionWrapper to reconnect, declares the exchange on the new
// connection and flushes the outage buffer.
func (p *amqpPublisher) run(s *session, gen uint64) {
	for {
		select {
		case <-s.dead:
		case <-p.stop:
			return
		}
		c, g := p.waitConn(s.conn, gen)
		if c == nil {
			return
		}
		gen = g
		lost := exchangeLost(c, p.cfg.Exchange)
		ns := p.reopen(c)
		if ns != nil && lost {
			// The broker restarted: the exchange (not durable, as is-wire
			// declares it) went with every binding. Give consumers time to
			// bind again before the buffer goes out, or it is unroutable.
			p.log.Info("exchange was gone (broker restart): waiting for consumers to bind again", "grace", rebindGrace)
			select {
			case <-time.After(rebindGrace):
			case <-p.stop:
				return
			}
		}
		if ns == nil {
			select {
			case <-p.stop:
				return
			default: // c closed before the exchange could be declared
			}
			s = &session{conn: c, dead: s.dead}
			continue
		}
		p.perm.Store(nil)
		s = ns
		p.sess.Store(s)
		p.obs.Connection(true)
		p.log.Info("broker connection back", "buffered", p.buf.Len())
		p.drainLoop(s)
		p.dropMu.Lock()
		p.logDropsLocked("outage buffer full, oldest dropped", time.Now())
		p.dropMu.Unlock()
	}
}

// reopen declares the exchange on a new connection, retrying on the same
// connection while it stays open (a permanent refusal is what Publish
// returns meanwhile). It returns nil when c closes or the publisher stops.
func (p *amqpPublisher) reopen(c *amqp091.Connection) *session {
	for {
		s, err := p.newSession(c)
		if err == nil {
			return s
		}
		pause := time.Second
		if errors.Is(err, ErrPermanent) {
			p.perm.Store(&err)
			pause = 10 * time.Second
		}
		p.log.Error("after reconnect", "error", err, "retry_in", pause)
		sleepUntil(time.Now().Add(pause), p.stop)
		select {
		case <-p.stop:
			return nil
		default:
		}
		if c.IsClosed() {
			return nil
		}
	}
}

// waitConn waits until the ConnectionWrapper holds an open connection other
// than old, or the publisher or the wrapper is closed (then nil).
//
// The wrapper replaces its fields without synchronisation. With a connWatch
// the publisher reads them only after the wrapper logged the new connection
// (a happens-before edge, so `go test -race` stays quiet); without one it
// polls IsConnected.
func (p *amqpPublisher) waitConn(old *amqp091.Connection, gen uint64) (*amqp091.Connection, uint64) {
	for {
		var wake <-chan struct{}
		if p.watch != nil {
			g, up := p.watch.state()
			if g != gen {
				gen = g
				if c := p.conn.Connection(); c != nil && c != old && !c.IsClosed() {
					return c, gen
				}
			}
			wake = up
		} else if p.conn.IsConnected() {
			if c := p.conn.Connection(); c != nil && c != old && !c.IsClosed() {
				return c, gen
			}
		}
		if p.conn.Closed() {
			return nil, gen
		}
		t := time.NewTimer(reconnectPoll)
		select {
		case <-wake:
		case <-t.C:
		case <-p.stop:
			t.Stop()
			return nil, gen
		}
		t.Stop()
	}
}

// connWatch wraps the watermill logger handed to wamqp.NewConnection. The
// ConnectionWrapper logs connectedMsg right after it stored a new
// connection; connWatch turns that into an event, so the publisher learns
// of a reconnect without reading the wrapper's racy fields first.
type connWatch struct {
	watermill.LoggerAdapter

	mu  sync.Mutex
	gen uint64
	up  chan struct{} // closed and replaced on each connect
}

// connectedMsg is what watermill-amqp v3's ConnectionWrapper.connect logs.
const connectedMsg = "Connected to AMQP"

func newConnWatch(next watermill.LoggerAdapter) *connWatch {
	if next == nil {
		next = watermill.NopLogger{}
	}
	return &connWatch{LoggerAdapter: next, up: make(chan struct{})}
}

func (w *connWatch) Info(msg string, fields watermill.LogFields) {
	if msg == connectedMsg {
		w.mu.Lock()
		w.gen++
		close(w.up)
		w.up = make(chan struct{})
		w.mu.Unlock()
	}
	w.LoggerAdapter.Info(msg, fields)
}

// state returns how many connects were seen and a channel closed at the next.
func (w *connWatch) state() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen, w.up
}

// pubChannel is one AMQP channel of the pool. One Publish call uses it at
// a time.
type pubChannel struct {
	sess   *session
	ch     *amqp091.Channel
	broken atomic.Bool
	dcs    []*amqp091.DeferredConfirmation // reused between calls
}

// openChannel opens a channel on s (confirm mode when configured, returns
// watched when mandatory), bounded by wait.
func (p *amqpPublisher) openChannel(s *session, wait time.Duration) (*pubChannel, error) {
	type result struct {
		pc  *pubChannel
		err error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := s.conn.Channel()
		if err != nil {
			done <- result{err: fmt.Errorf("open channel: %w", err)}
			return
		}
		if p.cfg.Confirm {
			if err := ch.Confirm(false); err != nil {
				_ = ch.Close()
				done <- result{err: fmt.Errorf("confirm mode: %w", err)}
				return
			}
		}
		if p.cfg.Mandatory {
			rets := ch.NotifyReturn(make(chan amqp091.Return, 64))
			go func() {
				for r := range rets {
					p.noteUnroutable(r)
				}
			}()
		}
		done <- result{pc: &pubChannel{sess: s, ch: ch}}
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-done:
		return r.pc, r.err
	case <-t.C:
		go func() {
			if r := <-done; r.pc != nil {
				r.pc.kill()
			}
		}()
		return nil, fmt.Errorf("open channel: %w", errPublishTimeout)
	}
}

// send publishes items in order, all in flight at once, and waits for
// their confirms. It returns how many, from the front, are confirmed (or
// written, without confirms). A watchdog bounds the whole attempt by wait:
// past it the channel is closed and replaced (and the connection cut if
// even that hangs).
func (pc *pubChannel) send(p *amqpPublisher, items []pubItem, wait time.Duration) (int, error) {
	expired := make(chan struct{})
	wd := time.AfterFunc(wait, func() { close(expired); pc.kill() })
	defer wd.Stop()
	confirm := p.cfg.Confirm
	dcs := pc.dcs[:0]
	defer func() { clear(dcs); pc.dcs = dcs[:0] }()
	for i, it := range items {
		pub, err := marshalWire(it.msg.Metadata, it.msg.Payload)
		if err != nil { // checked in Publish; here only if metadata changed since
			return ackedPrefix(dcs, i, confirm), fmt.Errorf("%w (%w)", err, ErrPermanent)
		}
		dc, err := pc.ch.PublishWithDeferredConfirm(p.cfg.Exchange, it.key, p.cfg.Mandatory, false, pub)
		if err != nil {
			pc.kill()
			return ackedPrefix(dcs, i, confirm), fmt.Errorf("publish: %w", err)
		}
		if confirm {
			dcs = append(dcs, dc)
		}
		if i&255 == 255 {
			select {
			case <-expired:
				return ackedPrefix(dcs, i+1, confirm), fmt.Errorf("publish: %w", errPublishTimeout)
			default:
			}
		}
	}
	if !confirm {
		return len(items), nil
	}
	for i, dc := range dcs {
		select {
		case <-dc.Done():
			if !dc.Acked() {
				if pc.ch.IsClosed() {
					return i, errChannelClosed
				}
				return i, errNack
			}
		case <-expired:
			return i, fmt.Errorf("wait for confirms: %w", errPublishTimeout)
		}
	}
	return len(items), nil
}

// ackedPrefix counts the leading messages already confirmed (all n
// written ones without confirms).
func ackedPrefix(dcs []*amqp091.DeferredConfirmation, n int, confirm bool) int {
	if !confirm {
		return n
	}
	for i, dc := range dcs {
		if !dc.Acked() {
			return i
		}
	}
	return len(dcs)
}

// kill marks the channel unusable and closes it in the background; if the
// close hangs (a wedged socket), the connection is cut so the wrapper
// reconnects.
func (pc *pubChannel) kill() {
	if !pc.broken.CompareAndSwap(false, true) {
		return
	}
	go func() {
		if err := bounded(closeGrace, pc.ch.Close); errors.Is(err, errPublishTimeout) {
			_ = pc.sess.conn.CloseDeadline(time.Now())
		}
	}()
}

// bounded runs f and returns its error, or errPublishTimeout after d (f
// keeps running in the background: amqp091-go calls cannot be cancelled).
func bounded(d time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errPublishTimeout
	}
}

// rebindGrace is how long the publisher keeps buffering after a broker
// restart, so consumers reconnect and bind before the buffer is flushed:
// clients reconnect within reconnectConfig's 5 s ceiling (plus jitter).
const rebindGrace = 10 * time.Second

// exchangeLost reports whether exchange does not exist on c (the broker
// restarted and lost it). Errors other than 404 count as not lost.
func exchangeLost(c *amqp091.Connection, exchange string) bool {
	ch, err := c.Channel()
	if err != nil {
		return false
	}
	defer func() { _ = ch.Close() }()
	err = ch.ExchangeDeclarePassive(exchange, "topic", false, false, false, false, nil)
	var aerr *amqp091.Error
	return errors.As(err, &aerr) && aerr.Code == amqp091.NotFound
}
