package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// quorumDeliveryLimit is x-delivery-limit of a queue created for --queue:
// a message that keeps breaking the client (an integer header >= 2^31 makes
// amqp091-go close the connection before the handler sees it) is dropped
// after this many deliveries instead of looping forever.
const quorumDeliveryLimit = 5

// exclusiveQueueName returns `<hostname>/<16 upper hex>`, as is-wire names
// its queues. A name of ours, not a server-named "" queue: the name must
// survive a reconnect so the consumer can declare and consume it again.
func exclusiveQueueName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "metricsender"
	}
	return fmt.Sprintf("%s/%016X", host, rand.Uint64())
}

// wireTopology declares what the receiver consumes: the exchange exactly as
// is-wire declares it, the queue, and one binding per pattern.
type wireTopology struct {
	exchange string
	queue    string
	named    bool // --queue: durable, may exist already
	logger   *slog.Logger
}

// declare runs on Subscribe and again after every reconnect (a broker
// restart loses the non-durable exchange and the exclusive queue). The
// exchange is declared once per call, not once per pattern.
func (b *wireTopology) declare(conn *amqp091.Connection, patterns []string) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	// topic, durable=false, auto_delete=false, internal=false, no arguments:
	// other flags make the broker answer 406 to us or to every later
	// Python Channel().
	if err := ch.ExchangeDeclare(b.exchange, "topic", false, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %q: %w", b.exchange, err)
	}
	if err := b.declareQueue(conn, ch); err != nil {
		return err
	}
	for _, p := range patterns {
		if err := ch.QueueBind(b.queue, p, b.exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %q to %q with %q: %w", b.queue, b.exchange, p, err)
		}
	}
	b.logger.Debug("queue bound", "queue", b.queue, "exchange", b.exchange, "patterns", patterns)
	return nil
}

// declareQueue declares the exclusive, auto-delete, non-durable queue, or
// for a named queue: uses it as it is when it exists, and creates it as a
// durable quorum queue with a delivery limit when it does not.
func (b *wireTopology) declareQueue(conn *amqp091.Connection, ch *amqp091.Channel) error {
	if !b.named {
		if _, err := ch.QueueDeclare(b.queue, false, true, true, false, nil); err != nil {
			return fmt.Errorf("declare exclusive queue %q: %w", b.queue, err)
		}
		return nil
	}
	exists, err := b.queueExists(conn)
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
func (b *wireTopology) queueExists(conn *amqp091.Connection) (bool, error) {
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
