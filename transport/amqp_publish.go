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

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/throttle"
)

var errPublisherClosed = errors.New("publisher closed")

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

	drops *dropLog // what is given up: told to the hooks, logged

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
	p.drops = &dropLog{hooks: cfg.Hooks, log: logger, buf: p.buf, size: cfg.Buffer}
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
		p.drops.add(len(msgs), DropFailed)
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
			p.drops.add(len(msgs), DropFailed)
			return fmt.Errorf("publish message %d of %d: %w (%w)", i+1, len(msgs), err, ErrPermanent)
		}
		key := m.Metadata[codec.KeyTopic]
		if key == "" {
			key = topic
		}
		items[i] = pubItem{key: key, msg: m}
	}
	if perr := p.perm.Load(); perr != nil {
		p.drops.add(len(items), DropFailed)
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
		p.drops.add(len(rest), DropFailed)
		return err
	}
	if len(rest) > 0 {
		p.buffer(rest, false)
	}
	return nil
}
