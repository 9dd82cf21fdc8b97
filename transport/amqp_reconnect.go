package transport

import (
	"errors"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// newSession opens a session on c for the publisher: the exchange
// declared, bounded by PublishTimeout.
func (p *amqpPublisher) newSession(c *amqp091.Connection) (*session, error) {
	return openSession(c, p.cfg.Exchange, p.cfg.PublishTimeout, p.log, sessionEvents{
		// Before the session is seen dead: Drain's maxOutage counts from it.
		closing: func() { p.downAt.Store(time.Now().UnixNano()) },
		closed: func(err *amqp091.Error) {
			p.hooks.Connection(false)
			if err != nil {
				p.log.Warn("broker connection lost: buffering messages until it is back", "error", err)
			}
		},
	})
}

// run replaces the session after each connection loss: it waits for the
// ConnectionWrapper to reconnect, declares the exchange on the new
// connection, opens a rebind window and starts flushing the outage buffer.
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
		ns := p.reopen(c)
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
		// A restarted broker lost the exchange (not durable, as is-wire
		// declares it) with every binding, and receivers bind again only
		// after they reconnect: what it returns as unroutable for a while
		// is retried, not given up (see rebindState).
		p.rebind.open(time.Now())
		p.rebindLogged.Store(false)
		s = ns
		buffered := p.buf.Len() // before waiters wake and flush
		p.sess.Store(s)
		p.signalUp()
		p.hooks.Connection(true)
		p.log.Info("broker connection back", "buffered", buffered, "rebind_window", p.rebind.window)
		p.kick()
	}
}

// signalUp wakes the waiters of upEvent: a new session is live, or the
// new connection refused the exchange for good (perm).
func (p *amqpPublisher) signalUp() {
	p.upMu.Lock()
	close(p.up)
	p.up = make(chan struct{})
	p.upMu.Unlock()
}

// upEvent returns a channel closed when the next session goes live (or
// perm is set). Take it before looking at live() and perm, so a change in
// between is not missed.
func (p *amqpPublisher) upEvent() <-chan struct{} {
	p.upMu.Lock()
	defer p.upMu.Unlock()
	return p.up
}

// downSince is when the current outage began.
func (p *amqpPublisher) downSince() time.Time { return time.Unix(0, p.downAt.Load()) }

// reopen declares the exchange on a new connection, retrying on the same
// connection while it stays open (a permanent refusal is what Publish
// returns meanwhile). It returns nil when c closes or the publisher stops.
func (p *amqpPublisher) reopen(c *amqp091.Connection) *session {
	for {
		s, err := p.newSession(c)
		if err == nil {
			return s
		}
		// Pauses, not events: nothing tells when a refused or failed
		// declaration would succeed on this connection.
		pause := time.Second
		if errors.Is(err, ErrPermanent) {
			p.perm.Store(&err)
			p.signalUp()
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
// polls IsConnected. The poll stays with a connWatch too, for the one
// change no event tells of: the wrapper closed for good (Closed).
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
