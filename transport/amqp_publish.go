package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/throttle"
)

var (
	errPublisherClosed = errors.New("publisher closed")
	errPublishTimeout  = errors.New("timed out")
	errNack            = errors.New("broker nacked the message")
	errChannelClosed   = errors.New("channel closed")
	errFlushBusy       = errors.New("another flush is running")
)

const (
	// flushBatch is how many buffered messages one flush step sends.
	flushBatch = 1000
	// reconnectPoll is how often a waiter looks at the connection when no
	// event tells it more.
	reconnectPoll = 100 * time.Millisecond
	// retryPause spaces the attempts of one call after a failure.
	retryPause = 50 * time.Millisecond
	// closeGrace is how long a hung channel may take to close before the
	// watchdog cuts the whole connection (a wedged socket write).
	closeGrace = 5 * time.Second
)

// pubItem is one message of a Publish call with its routing key.
type pubItem struct {
	key string
	msg *message.Message
}

// amqpPublisher is a watermill message.Publisher over amqp091-go with
// asynchronous publisher confirms, built on watermill-amqp's reconnecting
// ConnectionWrapper and wireMarshaler.
//
// Publish(topic, msgs...) sends each message to the exchange with the
// routing key of its codec.KeyTopic metadata (topic when unset), mandatory
// when cfg.Mandatory. All messages of one call go on one channel, all in
// flight at once, in order. With cfg.Confirm a nil error means the broker
// confirmed every message (or, see below, that it is buffered); without
// it, that the frames were written to the socket, not that a queue has
// them. A returned (unroutable) message is still confirmed by the broker.
// With confirms, a message returned within cfg.RebindWindow after a
// reconnect goes back to the outage buffer and is retried with backoff
// (receivers bind again only once they have reconnected too; see
// rebindState); any other return is reported to PublishHooks.Unroutable and
// logged, once per routing key at warn. PublishHooks.Published counts each
// message once, when the broker confirmed it and did not return it.
// Without confirms returns are counted as they come, never retried, and
// Published counts every message written. Failed attempts (a nack, a closed channel, a wait past half of
// PublishTimeout: that channel is closed and replaced) are retried from
// the first unconfirmed message on, so delivery is at-least-once: a retry
// may duplicate messages.
//
// Publish returns an error when the messages are still unconfirmed after
// PublishTimeout while connected; for a message is-wire cannot carry
// (wraps ErrPermanent; nothing of the call is sent); after Close; when the
// exchange is refused after a reconnect (wraps ErrPermanent); and when the
// outage buffer is still draining after PublishTimeout and the call would
// overflow it. The messages of a failed call that were not confirmed are
// counted as dropped (DropFailed): the caller decides whether to try again.
//
// While the connection is down, Publish does not fail: the messages wait in
// an outage buffer of cfg.Buffer messages (the oldest dropped and counted
// on overflow) and Publish returns nil at once. After the reconnect the
// buffer is flushed in order, before newer messages. While connected, a
// slow broker slows Publish down (backpressure) and nothing is dropped.
//
// Order: a topic's messages keep their order within a call, and across
// calls made one after another (with confirms because each call is
// confirmed before the next; without, because the pool hands a caller the
// channel it used last). Concurrent calls have no order between them.
//
// Safe for concurrent use: concurrent calls use different channels of a
// pool of cfg.ChannelPoolSize and wait for a free one. Close or Shutdown
// end it; see Shutdown. Drain waits for everything to be confirmed.
type amqpPublisher struct {
	conn  *wamqp.ConnectionWrapper
	watch *connWatch
	cfg   AMQPConfig
	log   *slog.Logger
	hooks PublishHooks

	sess     atomic.Pointer[session]
	perm     atomic.Pointer[error] // a permanent failure after a reconnect
	pool     *channelPool
	buf      *outageBuffer
	flushSem chan struct{} // held by the one flush running
	flushing atomic.Bool   // a flush has messages in flight
	drainer  atomic.Bool   // a drainLoop goroutine runs (see kick)

	rebind       rebindState
	rebindLogged atomic.Bool  // the current window's first retry was logged
	downAt       atomic.Int64 // unix nanoseconds when the connection was last lost
	upMu         sync.Mutex
	up           chan struct{} // closed and replaced when a new session is live, or perm is set

	mu       sync.RWMutex // guards closed and inflight.Add
	closed   bool
	inflight sync.WaitGroup
	drained  atomic.Pointer[string] // once Shutdown or Drain gave up on the buffer: the Drop reason
	stop     chan struct{}          // closed by Shutdown: ends the reconnect loop

	dropMu      sync.Mutex
	dropPending int
	dropTotal   int
	dropLogged  time.Time

	unroutable *throttle.Warning
	// flushFail: a flush that keeps failing on a live connection retries
	// every second; the log gets the first, then a line a minute.
	flushFail *throttle.Warning
}

// publisherOption configures newAMQPPublisher.
type publisherOption func(*amqpPublisher)

// withConnWatch tells the publisher about reconnects through w, which must
// be the logger given to the ConnectionWrapper (see connWatch).
func withConnWatch(w *connWatch) publisherOption {
	return func(p *amqpPublisher) { p.watch = w }
}

// newAMQPPublisher builds the publisher on conn, which must be connected.
// It declares cfg.Exchange (type topic, durable=false, auto_delete=false,
// internal=false, no arguments) once per connection, now and after every
// reconnect. A declaration the broker refuses (406: the exchange exists with
// other flags; 403: access refused) is returned wrapping ErrPermanent. The
// caller keeps owning conn and closes it after the publisher's Close.
func newAMQPPublisher(conn *wamqp.ConnectionWrapper, cfg AMQPConfig, logger *slog.Logger, opts ...publisherOption) (*amqpPublisher, error) {
	logger = orDiscard(logger)
	cfg.setDefaults()
	cfg.ChannelPoolSize = max(cfg.ChannelPoolSize, 1)
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultAMQPConfig("").PublishTimeout
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultAMQPConfig("").Buffer
	}
	p := &amqpPublisher{
		conn:     conn,
		cfg:      cfg,
		log:      logger,
		hooks:    cfg.Hooks,
		pool:     newChannelPool(cfg.ChannelPoolSize),
		buf:      newOutageBuffer(cfg.Buffer),
		flushSem: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		up:       make(chan struct{}),
		rebind:   rebindState{window: max(cfg.RebindWindow, 0)},
		unroutable: throttle.New(logger, throttle.Config{
			Message:  "message unroutable: no queue is bound for its routing key",
			CountKey: "unroutable", KeysKey: "deployments",
		}),
		flushFail: throttle.New(logger, throttle.Config{
			Message: "flushing buffered messages failed, retrying", CountKey: "failures", KeysKey: "errors",
		}),
	}
	for _, o := range opts {
		o(p)
	}
	c := conn.Connection()
	if c == nil || c.IsClosed() {
		return nil, errors.New("not connected")
	}
	s, err := p.newSession(c)
	if err != nil {
		return nil, err
	}
	p.sess.Store(s)
	p.hooks.Connection(true)
	var gen uint64
	if p.watch != nil {
		gen, _ = p.watch.state()
	}
	go p.run(s, gen)
	return p, nil
}

// Publish sends msgs; see amqpPublisher for the contract.
func (p *amqpPublisher) Publish(topic string, msgs ...*message.Message) error {
	start := time.Now()
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		p.dropped(len(msgs), DropFailed)
		return errPublisherClosed
	}
	p.inflight.Add(1)
	p.mu.RUnlock()
	defer p.inflight.Done()
	defer func() { p.hooks.PublishDuration(time.Since(start)) }()
	if len(msgs) == 0 {
		return nil
	}
	items := make([]pubItem, len(msgs))
	for i, m := range msgs {
		if err := checkWire(m.Metadata); err != nil {
			p.dropped(len(msgs), DropFailed)
			return fmt.Errorf("publish message %d of %d: %w (%w)", i+1, len(msgs), err, ErrPermanent)
		}
		key := m.Metadata[codec.KeyTopic]
		if key == "" {
			key = topic
		}
		items[i] = pubItem{key: key, msg: m}
	}
	if perr := p.perm.Load(); perr != nil {
		p.dropped(len(items), DropFailed)
		return *perr
	}
	if p.live() == nil {
		p.buffer(items, false)
		return nil
	}
	if p.draining() {
		if done, err := p.publishBehindBuffer(items, start.Add(p.cfg.PublishTimeout)); done {
			return err
		}
	}
	rest, retry, err := p.deliver(items, start.Add(p.cfg.PublishTimeout))
	p.requeue(retry)
	if err != nil {
		p.dropped(len(rest), DropFailed)
		return err
	}
	if len(rest) > 0 {
		p.buffer(rest, false)
	}
	return nil
}

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
		n, returned, err := pc.send(p, items, wait)
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
	npc, err := p.openChannel(s, wait)
	if err != nil {
		p.pool.put(nil)
		return nil, err
	}
	return npc, nil
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
