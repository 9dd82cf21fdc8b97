package transport

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
)

// NewAMQPWithCut is NewAMQPConfig plus a func that closes the pair's
// broker connection from the client side, as a broker or network failure
// would, so that tests can check the reconnect without touching the broker.
func NewAMQPWithCut(ctx context.Context, cfg AMQPConfig, logger *slog.Logger) (Pair, func() error, error) {
	p, conn, err := newAMQPPair(ctx, cfg, logger)
	if err != nil {
		return p, nil, err
	}
	return p, func() error { return conn.Connection().Close() }, nil
}

// SubscriberQueue returns the queue an amqp subscriber consumes.
func SubscriberQueue(s message.Subscriber) string {
	return s.(*amqpSubscriber).queue
}

// NewNATSWithCut is the nats pair for cfg plus a func that drops its
// connection from the client side (the client then reconnects).
func NewNATSWithCut(ctx context.Context, cfg NATSConfig, logger *slog.Logger) (Pair, func() error, error) {
	p, conn, err := newNATSPair(ctx, cfg, logger)
	if err != nil {
		return p, nil, err
	}
	return p, conn.ForceReconnect, nil
}
