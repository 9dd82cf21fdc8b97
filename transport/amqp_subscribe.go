package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// quorumDeliveryLimit is x-delivery-limit of a queue created for --queue:
// a message that keeps breaking the client (an integer header >= 2^31 makes
// amqp091-go close the connection before the handler sees it) is dropped
// after this many deliveries instead of looping forever.
const quorumDeliveryLimit = 5

// amqpSubscriber consumes one queue bound to every pattern of
// AMQPConfig.Topics (or to the Subscribe topic when there are none).
type amqpSubscriber struct {
	sub      *wamqp.Subscriber
	patterns []string
}

// newAMQPSubscriber builds the subscriber over conn. Nothing is declared
// until Subscribe. The queue is cfg.Queue or, by default, a name generated
// here once (`<hostname>/<16 upper hex>`, as is-wire names its queues) for
// an exclusive, auto-delete, non-durable queue.
func newAMQPSubscriber(conn *wamqp.ConnectionWrapper, cfg AMQPConfig, logger *slog.Logger) (*amqpSubscriber, error) {
	queue := cfg.Queue
	if queue == "" {
		queue = exclusiveQueueName()
	}
	topo := &wireTopology{
		conn:     conn,
		exchange: cfg.Exchange,
		queue:    queue,
		named:    cfg.Queue != "",
		patterns: cfg.Topics,
		logger:   logger,
	}
	wcfg := wamqp.Config{
		Marshaler: wireMarshaler{},
		Exchange: wamqp.ExchangeConfig{
			GenerateName: wamqp.GenerateExchangeNameConstant(cfg.Exchange),
			Type:         "topic",
		},
		Queue: wamqp.QueueConfig{
			GenerateName: wamqp.GenerateQueueNameConstant(queue),
			Durable:      topo.named,
			AutoDelete:   !topo.named,
			Exclusive:    !topo.named,
		},
		QueueBind: wamqp.QueueBindConfig{
			GenerateRoutingKey: func(topic string) string { return topic },
		},
		Consume: wamqp.ConsumeConfig{
			// The marshaler never fails and the handler acks what it cannot
			// decode; a nack must still never loop a message forever.
			NoRequeueOnNack: true,
			Qos:             wamqp.QosConfig{PrefetchCount: cfg.Prefetch},
		},
		TopologyBuilder: topo,
	}
	sub, err := wamqp.NewSubscriberWithConnection(wcfg, watermill.NewSlogLogger(logger), conn)
	if err != nil {
		return nil, fmt.Errorf("new subscriber: %w", err)
	}
	return &amqpSubscriber{sub: sub, patterns: cfg.Topics}, nil
}

// Subscribe declares the exchange and the queue, binds the queue to every
// pattern (AMQPConfig.Topics, or topic when there are none) and returns the
// deliveries in queue order. The channel is closed when ctx is done or the
// subscriber is closed. After a connection drop it re-declares and goes on
// consuming by itself; an exclusive queue loses what was published
// meanwhile (by design), a named queue keeps it.
//
// Every call consumes the same queue: two calls share its messages. Errors
// from a refused declaration (406, 403) wrap ErrPermanent.
func (s *amqpSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if len(s.patterns) == 0 && topic == "" {
		return nil, errors.New("subscribe: empty topic and no Topics")
	}
	out, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		if isPermanent(err) {
			err = fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	return out, nil
}

// Close stops every Subscribe and closes their channels; messages in
// flight and not acked are given back to the broker. It does not close
// the shared connection. It may be called any number of times.
func (s *amqpSubscriber) Close() error {
	return s.sub.Close()
}

// exclusiveQueueName returns `<hostname>/<16 upper hex>`. A name of ours,
// not a server-named "" queue: watermill-amqp drops the server's name and
// would consume a queue that does not exist (see WIRE.md).
func exclusiveQueueName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "metricsender"
	}
	return fmt.Sprintf("%s/%016X", host, rand.Uint64())
}

// wireTopology is the watermill-amqp TopologyBuilder of the receiver: the
// exchange exactly as is-wire declares it, declared once per topology
// build (not once per pattern), then the queue and one binding per pattern.
type wireTopology struct {
	conn     *wamqp.ConnectionWrapper
	exchange string
	queue    string
	named    bool
	patterns []string
	logger   *slog.Logger
}

// ExchangeDeclare declares the is-wire exchange: topic, durable=false,
// auto_delete=false, internal=false, no arguments. Other flags would make
// the broker answer 406 to us or to every later Python Channel().
func (b *wireTopology) ExchangeDeclare(ch *amqp091.Channel, name string, _ wamqp.Config) error {
	return ch.ExchangeDeclare(name, "topic", false, false, false, false, nil)
}

// BuildTopology runs on every Subscribe and after every reconnect.
func (b *wireTopology) BuildTopology(ch *amqp091.Channel, params wamqp.BuildTopologyParams, cfg wamqp.Config, _ watermill.LoggerAdapter) error {
	if err := b.ExchangeDeclare(ch, b.exchange, cfg); err != nil {
		return fmt.Errorf("declare exchange %q: %w", b.exchange, err)
	}
	if err := b.declareQueue(ch); err != nil {
		return err
	}
	patterns := b.patterns
	if len(patterns) == 0 {
		patterns = []string{params.RoutingKey}
	}
	for _, p := range patterns {
		if err := ch.QueueBind(b.queue, p, b.exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %q to %q with %q: %w", b.queue, b.exchange, p, err)
		}
	}
	b.logger.Debug("queue bound", "queue", b.queue, "exchange", b.exchange, "patterns", patterns)
	return nil
}

// declareQueue declares the exclusive queue, or for a named queue: uses it
// as it is when it exists, and creates it as a durable quorum queue with a
// delivery limit when it does not.
func (b *wireTopology) declareQueue(ch *amqp091.Channel) error {
	if !b.named {
		if _, err := ch.QueueDeclare(b.queue, false, true, true, false, nil); err != nil {
			return fmt.Errorf("declare exclusive queue %q: %w", b.queue, err)
		}
		return nil
	}
	exists, err := b.queueExists()
	if err != nil {
		return err
	}
	if exists {
		b.logger.Info("consuming existing queue as it is", "queue", b.queue)
		return nil
	}
	args := amqp091.Table{"x-queue-type": "quorum", "x-delivery-limit": int32(quorumDeliveryLimit)}
	if _, err := ch.QueueDeclare(b.queue, true, false, false, false, args); err != nil {
		return fmt.Errorf("declare quorum queue %q: %w", b.queue, err)
	}
	b.logger.Info("declared durable quorum queue", "queue", b.queue, "x-delivery-limit", quorumDeliveryLimit)
	return nil
}

// queueExists declares the queue passively on a throwaway channel, since
// the broker answers 404 by closing the channel.
func (b *wireTopology) queueExists() (bool, error) {
	conn := b.conn.Connection()
	if conn == nil {
		return false, errors.New("check queue: not connected")
	}
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("check queue %q: open channel: %w", b.queue, err)
	}
	_, err = ch.QueueDeclarePassive(b.queue, false, false, false, false, nil)
	_ = ch.Close() // already closed after a 404
	var amqpErr *amqp091.Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp091.NotFound:
		return false, nil
	default:
		return false, fmt.Errorf("check queue %q: %w", b.queue, err)
	}
}
