package transport

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

var (
	errNack          = errors.New("broker nacked the message")
	errChannelClosed = errors.New("channel closed")
)

// closeGrace is how long a hung channel may take to close before the
// watchdog cuts the whole connection (a wedged socket write).
const closeGrace = 5 * time.Second

// pubItem is one message of a Publish call with its routing key.
type pubItem struct {
	key string
	msg *message.Message
}

// channelConfig is how a publish channel publishes (from AMQPConfig).
type channelConfig struct {
	exchange  string
	confirm   bool // confirm mode: send waits for the broker's confirms
	mandatory bool // unroutable messages come back (basic.return)
}

// pubChannel is one AMQP channel of the pool. One Publish call uses it at
// a time.
type pubChannel struct {
	sess   *session
	ch     *amqp091.Channel
	cfg    channelConfig
	broken atomic.Bool
	dcs    []*amqp091.DeferredConfirmation // reused between calls
	// rets receives the broker's returns with confirms and mandatory on;
	// only send reads it (see send), or, once the channel is given up,
	// releaseReturns. nil otherwise.
	rets     chan amqp091.Return
	released sync.Once
}

// openChannel opens a channel on s (confirm mode when cfg.confirm; with
// cfg.mandatory, returns are kept for send with confirms, else handed to
// unroutable as they come), bounded by wait.
func openChannel(s *session, cfg channelConfig, wait time.Duration, unroutable func(amqp091.Return)) (*pubChannel, error) {
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
		if cfg.confirm {
			if err := ch.Confirm(false); err != nil {
				_ = ch.Close()
				done <- result{err: fmt.Errorf("confirm mode: %w", err)}
				return
			}
		}
		pc := &pubChannel{sess: s, ch: ch, cfg: cfg}
		switch {
		case cfg.mandatory && cfg.confirm:
			// Returns are settled with their confirms (see send, settle).
			pc.rets = ch.NotifyReturn(make(chan amqp091.Return, returnsDepth))
		case cfg.mandatory:
			rets := ch.NotifyReturn(make(chan amqp091.Return, 64))
			go func() {
				for r := range rets {
					unroutable(r)
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
func (pc *pubChannel) send(items []pubItem, wait time.Duration) (n int, returned []amqp091.Return, err error) {
	expired := make(chan struct{})
	wd := time.AfterFunc(wait, func() { close(expired); pc.killOnly() })
	defer wd.Stop()
	defer func() {
		if pc.broken.Load() {
			pc.releaseReturns() // nobody reads them on this channel any more
		}
	}()
	confirm := pc.cfg.confirm
	rets := pc.rets
	dcs := pc.dcs[:0]
	defer func() { clear(dcs); pc.dcs = dcs[:0] }()
	for i, it := range items {
		pub, err := marshalWire(it.msg.Metadata, it.msg.Payload)
		if err != nil { // checked in Publish; here only if metadata changed since
			return ackedPrefix(dcs, i, confirm), pc.takeReturns(returned), fmt.Errorf("%w (%w)", err, ErrPermanent)
		}
		dc, err := pc.ch.PublishWithDeferredConfirm(pc.cfg.exchange, it.key, pc.cfg.mandatory, false, pub)
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

// returnsDepth is the buffer of a channel's returns. amqp091-go gives up a
// return that waits more than 5 s for room (and then the message would
// count as routed), and blocks the connection's reader meanwhile: send
// reads returns between its writes, so this only absorbs bursts.
const returnsDepth = 256

// takeReturns appends the returns waiting in pc.rets to dst, without
// blocking.
func (pc *pubChannel) takeReturns(dst []amqp091.Return) []amqp091.Return {
	if pc.rets == nil {
		return dst
	}
	for {
		select {
		case r, ok := <-pc.rets:
			if !ok {
				return dst
			}
			dst = append(dst, r)
		default:
			return dst
		}
	}
}

// releaseReturns reads and discards pc.rets until the channel closes, so
// amqp091-go's reader never waits on a channel given up. Idempotent.
func (pc *pubChannel) releaseReturns() {
	if pc.rets == nil {
		return
	}
	pc.released.Do(func() {
		go func() {
			for range pc.rets {
			}
		}()
	})
}

// channelPool holds the publish channels. It hands out the channel used
// last first (a stack), so a caller publishing one call after another
// keeps using one channel: without confirms that is what keeps a topic's
// messages in order across calls (the broker orders per channel only).
// A nil entry is a slot whose channel is not open (yet).
type channelPool struct {
	slots chan struct{} // one token per free entry
	mu    sync.Mutex
	free  []*pubChannel
}

func newChannelPool(n int) *channelPool {
	p := &channelPool{slots: make(chan struct{}, n), free: make([]*pubChannel, n)}
	for range n {
		p.slots <- struct{}{}
	}
	return p
}

// get takes the most recently returned entry, waiting up to wait for one.
func (p *channelPool) get(wait time.Duration) (*pubChannel, bool) {
	select {
	case <-p.slots:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-p.slots:
		case <-t.C:
			return nil, false
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pc := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return pc, true
}

// put returns an entry taken with get.
func (p *channelPool) put(pc *pubChannel) {
	p.mu.Lock()
	p.free = append(p.free, pc)
	p.mu.Unlock()
	p.slots <- struct{}{}
}

// drain takes the open channels of all free entries out of the pool.
func (p *channelPool) drain() []*pubChannel {
	var out []*pubChannel
	for {
		select {
		case <-p.slots:
		default:
			return out
		}
		p.mu.Lock()
		pc := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		p.mu.Unlock()
		if pc != nil {
			out = append(out, pc)
		}
	}
}
