package codec

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// NewRouter is a sender's publish path: the events emitted into source go
// through Middleware (one wire message per event) and PublishMiddleware to
// pub. More handlers may be added before Run.
//
// The router never closes pub: it would close it with no deadline of the
// caller's (the AMQP publisher then waits up to its publish timeout for a
// reconnect), so during an outage closeTimeout ran out first and the
// buffered messages vanished unlogged. The caller shuts pub down itself.
func NewRouter(source *Source, pub message.Publisher, closeTimeout time.Duration, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: closeTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	router.AddMiddleware(PublishMiddleware(pub), Middleware())
	router.AddHandler("publish", "events", source, TopicPrefix+"*", unclosed{pub},
		func(msg *message.Message) ([]*message.Message, error) { return []*message.Message{msg}, nil })
	return router, nil
}

// unclosed is a publisher whose Close does nothing (see NewRouter).
type unclosed struct{ message.Publisher }

func (unclosed) Close() error { return nil }
