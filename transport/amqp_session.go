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
			p.downAt.Store(time.Now().UnixNano())
			close(s.dead)
			p.hooks.Connection(false)
			if err != nil {
				p.log.Warn("broker connection lost: buffering messages until it is back", "error", err)
			}
			return
		}
	}
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
	// rets receives the broker's returns with confirms and mandatory on;
	// only send reads it (see send), or, once the channel is given up,
	// releaseReturns. nil otherwise.
	rets     chan amqp091.Return
	released sync.Once
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
		pc := &pubChannel{sess: s, ch: ch}
		switch {
		case p.cfg.Mandatory && p.cfg.Confirm:
			// Returns are settled with their confirms (see send, settle).
			pc.rets = ch.NotifyReturn(make(chan amqp091.Return, returnsDepth))
		case p.cfg.Mandatory:
			rets := ch.NotifyReturn(make(chan amqp091.Return, 64))
			go func() {
				for r := range rets {
					p.noteUnroutable(r)
				}
			}()
		}
		done <- result{pc: pc}
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
// written, without confirms), and the broker's returns among them: with
// confirms and mandatory, the broker sends a message's basic.return before
// its basic.ack, and amqp091-go hands the return to pc.rets before it
// completes the confirm, so once a message is confirmed its return (if
// any) is in pc.rets or already read. A watchdog bounds the whole attempt
// by wait: past it the channel is closed and replaced (and the connection
// cut if even that hangs).
func (pc *pubChannel) send(p *amqpPublisher, items []pubItem, wait time.Duration) (n int, returned []amqp091.Return, err error) {
	expired := make(chan struct{})
	wd := time.AfterFunc(wait, func() { close(expired); pc.killOnly() })
	defer wd.Stop()
	defer func() {
		if pc.broken.Load() {
			pc.releaseReturns() // nobody reads them on this channel any more
		}
	}()
	confirm := p.cfg.Confirm
	rets := pc.rets
	dcs := pc.dcs[:0]
	defer func() { clear(dcs); pc.dcs = dcs[:0] }()
	for i, it := range items {
		pub, err := marshalWire(it.msg.Metadata, it.msg.Payload)
		if err != nil { // checked in Publish; here only if metadata changed since
			return ackedPrefix(dcs, i, confirm), pc.takeReturns(returned), fmt.Errorf("%w (%w)", err, ErrPermanent)
		}
		dc, err := pc.ch.PublishWithDeferredConfirm(p.cfg.Exchange, it.key, p.cfg.Mandatory, false, pub)
		if err != nil {
			pc.killOnly()
			return ackedPrefix(dcs, i, confirm), pc.takeReturns(returned), fmt.Errorf("publish: %w", err)
		}
		if confirm {
			dcs = append(dcs, dc)
		}
		if rets != nil {
			returned = pc.takeReturns(returned) // keep amqp091-go's reader from waiting on us
		}
		if i&255 == 255 {
			select {
			case <-expired:
				return ackedPrefix(dcs, i+1, confirm), pc.takeReturns(returned), fmt.Errorf("publish: %w", errPublishTimeout)
			default:
			}
		}
	}
	if !confirm {
		return len(items), nil, nil
	}
	for i, dc := range dcs {
		for waiting := true; waiting; {
			select {
			case <-dc.Done():
				waiting = false
			case r, ok := <-rets:
				if !ok {
					rets = nil // the channel closed; its confirms end too
					continue
				}
				returned = append(returned, r)
			case <-expired:
				return i, pc.takeReturns(returned), fmt.Errorf("wait for confirms: %w", errPublishTimeout)
			}
		}
		if !dc.Acked() {
			if pc.ch.IsClosed() {
				return i, pc.takeReturns(returned), errChannelClosed
			}
			return i, pc.takeReturns(returned), errNack
		}
	}
	return len(items), pc.takeReturns(returned), nil
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
// reconnects. Only for a channel no send is using.
func (pc *pubChannel) kill() {
	pc.killOnly()
	pc.releaseReturns()
}

// killOnly is kill for a channel a send is using: the send still reads
// its returns, and releases them when it ends.
func (pc *pubChannel) killOnly() {
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
