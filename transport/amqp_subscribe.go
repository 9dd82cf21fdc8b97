package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// resumeDelay spaces retries on a connection that is still up (the queue
// was deleted, a declaration failed) so a persistent fault does not spin.
const resumeDelay = time.Second

// poisonLoopDelay spaces retries once one message keeps breaking the connection.
const poisonLoopDelay = 30 * time.Second

var errSubscriberClosed = errors.New("subscriber closed")

// amqpSubscriber consumes one queue bound to every pattern of
// AMQPConfig.Topics (or to the Subscribe topic when there are none).
//
// It is ours rather than watermill-amqp's Subscriber: that one reads the
// ConnectionWrapper's fields while the wrapper rewrites them on reconnect
// (a data race `go test -race` reports on every reconnect). This one
// learns of reconnects through the connTracker. It keeps watermill-amqp's
// semantics otherwise: one delivery in flight, ack on Ack, and a Nack
// never requeues (a message the handler cannot take must not loop). The
// ack frames themselves are written behind the handler's back, in order,
// gathered into multiple acks under load (see settler); they all reach
// the broker before the consumer's channel closes.
type amqpSubscriber struct {
	tracker  *connTracker
	topo     *wireTopology
	prefetch int
	patterns []string
	queue    string
	logger   *slog.Logger

	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

// newAMQPSubscriber builds the subscriber; nothing is declared until
// Subscribe. The queue is cfg.Queue or, by default, a name generated here
// once for an exclusive, auto-delete, non-durable queue.
func newAMQPSubscriber(tracker *connTracker, cfg AMQPConfig, logger *slog.Logger) *amqpSubscriber {
	queue := cfg.Queue
	if queue == "" {
		queue = exclusiveQueueName()
	}
	return &amqpSubscriber{
		tracker:  tracker,
		topo:     &wireTopology{exchange: cfg.Exchange, queue: queue, named: cfg.Queue != "", logger: logger},
		prefetch: cfg.Prefetch,
		patterns: cfg.Topics,
		queue:    queue,
		logger:   logger.With("queue", queue),
		closing:  make(chan struct{}),
	}
}

// Subscribe declares the exchange and the queue, binds the queue to every
// pattern (AMQPConfig.Topics, or topic when there are none) and returns the
// deliveries in queue order, one at a time: the next comes after the
// handler acked or nacked the last. The channel is closed when ctx is done
// or the subscriber is closed. After a connection drop it declares again
// and goes on by itself; an exclusive queue loses what was published
// meanwhile (by design), a named queue keeps it.
//
// Every call consumes the same queue: two calls share its messages. It
// fails when the broker is down at the call, or refuses a declaration (406,
// 403: wrapping ErrPermanent). Safe for concurrent use.
func (s *amqpSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	patterns := s.patterns
	if len(patterns) == 0 {
		if topic == "" {
			return nil, errors.New("subscribe: empty topic and no Topics")
		}
		patterns = []string{topic}
	}
	select {
	case <-s.closing:
		return nil, fmt.Errorf("subscribe: %w", errSubscriberClosed)
	default:
	}
	conn, _ := s.tracker.current()
	if conn == nil || conn.IsClosed() {
		return nil, errors.New("subscribe: broker connection down")
	}
	if err := s.topo.declare(conn, patterns); err != nil {
		if isPermanent(err) {
			err = fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go s.run(ctx, conn, patterns, out)
	return out, nil
}

// run consumes until ctx is done or the subscriber closes, resuming on a
// new connection (declaring again) whenever the consumer stops.
func (s *amqpSubscriber) run(ctx context.Context, conn *amqp091.Connection, patterns []string, out chan<- *message.Message) {
	defer s.wg.Done()
	defer close(out)
	unreadable := 0 // unreadable frames in a row, with no good delivery between
	for {
		delivered, err := s.consume(ctx, conn, out)
		if ctx.Err() != nil || errors.Is(err, errSubscriberClosed) {
			return
		}
		s.logger.Warn("consumer stopped, resuming", "err", err)
		if delivered > 0 {
			unreadable = 0
		}
		if unreadableFrame(err) {
			unreadable++
			if !s.reportUnreadable(ctx, out) {
				return
			}
			if unreadable == poisonLoopLimit {
				s.logger.Error("the same unreadable message keeps coming back: the queue keeps it at its head "+
					"(a classic queue). Purge the queue (rabbitmqctl purge_queue) or use a quorum queue, whose delivery limit drops it",
					"queue", s.queue, "times", unreadable)
			}
			if unreadable >= poisonLoopLimit && !s.sleep(ctx, poisonLoopDelay) {
				return
			}
		}
		for {
			if conn = s.waitConn(ctx, conn); conn == nil {
				return
			}
			if err := s.topo.declare(conn, patterns); err != nil {
				s.logger.Warn("declare after reconnect", "err", err)
				continue
			}
			s.logger.Info("consuming again")
			break
		}
	}
}

// waitConn returns an open connection: old if it is still open (after a
// pause), else the next one the wrapper makes. Nil when ctx is done or the
// subscriber or the connection wrapper is closed.
func (s *amqpSubscriber) waitConn(ctx context.Context, old *amqp091.Connection) *amqp091.Connection {
	pause := time.NewTimer(resumeDelay)
	defer pause.Stop()
	paused := pause.C // nil once old may be used again
	for {
		c, up := s.tracker.current()
		if c != nil && !c.IsClosed() && (c != old || paused == nil) {
			return c
		}
		if s.tracker.closed() {
			return nil
		}
		select {
		case <-up:
		case <-paused:
			paused = nil
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return nil
		}
	}
}

// consume runs one consumer on a fresh channel of conn until the channel
// or connection closes (an error), ctx is done or the subscriber closes.
func (s *amqpSubscriber) consume(ctx context.Context, conn *amqp091.Connection, out chan<- *message.Message) (delivered int, err error) {
	ch, err := conn.Channel()
	if err != nil {
		return 0, fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	if s.prefetch > 0 {
		if err := ch.Qos(s.prefetch, 0, false); err != nil {
			return 0, fmt.Errorf("set prefetch: %w", err)
		}
	}
	closed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	cancelled := ch.NotifyCancel(make(chan string, 1)) // by the broker: the queue was deleted
	tag := fmt.Sprintf("metricsender-%016x", rand.Uint64())
	deliveries, err := ch.Consume(s.queue, tag, false, false, false, false, nil)
	if err != nil {
		return 0, fmt.Errorf("consume %q: %w", s.queue, err)
	}
	settled := newSettler(ch, settleDepth)
	brokerCancelled := false
	defer func() {
		// Before the channel closes: what the handler settled must reach
		// the broker, or it is redelivered.
		if serr := settled.close(); serr != nil {
			s.logger.Warn("acks or nacks did not reach the broker: those messages come again", "err", serr)
		}
		// And the broker must have applied it: a quorum queue may drop
		// acks that arrive just before their channel closes and redeliver
		// those messages (rabbitmq-server issue 10327; seen here as 1-9
		// redelivered of 300 under load). Cancelling the consumer waits
		// for the queue to apply what came before on this channel.
		if !ch.IsClosed() && !brokerCancelled {
			cancelConsumer(ch, tag)
		}
	}()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				// The channel closed, or the broker cancelled the consumer
				// and the channel stays open: wait for whichever it is.
				select {
				case err := <-closed:
					return delivered, closeReason(err)
				case <-cancelled:
					brokerCancelled = true
					return delivered, errConsumerCancelled
				case <-ctx.Done():
					return delivered, ctx.Err()
				case <-s.closing:
					return delivered, errSubscriberClosed
				}
			}
			if err := s.deliver(ctx, d, out, settled); err != nil {
				return delivered, err
			}
			delivered++
		case err := <-closed:
			return delivered, closeReason(err)
		case <-ctx.Done():
			return delivered, ctx.Err()
		case <-s.closing:
			return delivered, errSubscriberClosed
		}
	}
}

// errConsumerCancelled: the broker cancelled the consumer, as it does when
// the queue is deleted; run declares the queue again and resumes.
var errConsumerCancelled = errors.New("the broker cancelled the consumer (was the queue deleted?)")

// cancelWait bounds the consumer cancel before a channel closes: on a
// connection that stopped answering it would wait for the heartbeat.
const cancelWait = 5 * time.Second

// cancelConsumer cancels the consumer tag and waits for the broker's
// answer, at most cancelWait.
func cancelConsumer(ch *amqp091.Channel, tag string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ch.Cancel(tag, false)
	}()
	t := time.NewTimer(cancelWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C: // the channel's Close, next, ends the call
	}
}

// settleDepth is how many verdicts may wait for the settler before the
// consumer waits for it: enough to gather acks into one frame.
const settleDepth = 256

// deliver hands one delivery to the consumer, waits until the handler
// settles it and passes the verdict to settled. The marshaler never fails:
// the handler decodes and counts bad messages, so they are acked, not
// looped.
func (s *amqpSubscriber) deliver(ctx context.Context, d amqp091.Delivery, out chan<- *message.Message, settled *settler) error {
	msg, err := wireMarshaler{}.Unmarshal(d)
	if err != nil {
		s.logger.Warn("unmarshal delivery, dropped", "routing_key", d.RoutingKey, "err", err)
		settled.settle(settlement{tag: d.DeliveryTag})
		return nil
	}
	if d.Redelivered {
		msg.Metadata.Set(wamqp.MetadataRedeliveredKey, "true")
	}
	v, stop := s.handOut(ctx, msg, out)
	switch v {
	case acked:
		settled.settle(settlement{tag: d.DeliveryTag, ack: true})
	case nacked:
		settled.settle(settlement{tag: d.DeliveryTag})
	default: // not handed out, or handed out and not settled: give it back
		settled.settle(settlement{tag: d.DeliveryTag, requeue: true})
	}
	return stop
}

// verdict is what became of a message handed to the consumer.
type verdict int

const (
	unsettled verdict = iota // not taken, or taken and not settled before a stop
	acked
	nacked
)

// handOut gives msg to the consumer (on a context of its own, cancelled
// once settled) and waits until the handler settles it. When ctx ends or
// the subscriber closes first, stop says which; a settlement that came at
// the same moment still counts (a receiver acks its last message, then
// closes, and select chooses at random: an ack must not turn into a
// requeue).
func (s *amqpSubscriber) handOut(ctx context.Context, msg *message.Message, out chan<- *message.Message) (v verdict, stop error) {
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)
	select {
	case out <- msg:
	case <-ctx.Done():
		return unsettled, ctx.Err()
	case <-s.closing:
		return unsettled, errSubscriberClosed
	}
	select {
	case <-msg.Acked():
		return acked, nil
	case <-msg.Nacked():
		return nacked, nil
	case <-ctx.Done():
		stop = ctx.Err()
	case <-s.closing:
		stop = errSubscriberClosed
	}
	select {
	case <-msg.Acked():
		return acked, stop
	case <-msg.Nacked():
		return nacked, stop
	default:
		return unsettled, stop
	}
}

// Close stops every Subscribe, closes their channels and waits for them;
// a message handed out and not yet acked goes back to the queue. It does
// not close the shared connection. It may be called any number of times.
func (s *amqpSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}

// closeReason turns a NotifyClose value (nil for a close by the client)
// into an error.
func closeReason(err *amqp091.Error) error {
	if err == nil {
		return errors.New("channel closed")
	}
	return fmt.Errorf("channel closed: %w", err)
}
