package transport

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/labsea/metricsender/codec"
)

// gochannelTopic is the one internal gochannel topic every message travels
// on: gochannel matches topics exactly, so routing by pattern happens in
// the subscriber, on the codec.KeyTopic metadata.
const gochannelTopic = "metricsender.wire"

// NewGoChannel is the "gochannel" Factory: an in-process pair for trying
// the tool and for tests, with no broker. opts.URI, Exchange, Queue, TLS
// and the timeouts are ignored; Ready always reports nil.
//
// Publish blocks until every current subscriber acked each message, so
// order is kept. A message published while no Subscribe is active is
// dropped (gochannel keeps nothing): start the subscriber first (the app
// waits on router.Running()). Each Subscribe receives every matching
// message (unlike a shared AMQP queue).
func NewGoChannel(_ context.Context, opts Options, logger *slog.Logger) (Pair, error) {
	logger = orDiscard(logger)
	hooks := opts.Hooks
	if hooks == nil {
		hooks = NopPublishHooks{}
	}
	gc := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NewSlogLogger(logger))
	pub := &gcPublisher{gc: gc, hooks: hooks}
	sub := &gcSubscriber{gc: gc, patterns: opts.Topics, closing: make(chan struct{})}
	return Pair{
		Publisher:  pairPublisher(pub, opts.ReceiveOnly),
		Subscriber: sub,
		Ready:      func() error { return nil },
		Drain:      noDrain,
		Shutdown:   noShutdown,
		Close:      sub.Close,
	}, nil
}

// gcPublisher publishes on the internal topic, carrying each message's
// real topic in codec.KeyTopic.
type gcPublisher struct {
	gc    *gochannel.GoChannel
	hooks PublishHooks
}

// Publish sends each message to its codec.KeyTopic, or to topic when that
// is unset, in order. It does not modify msgs. Safe for concurrent use.
func (p *gcPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		t := m.Metadata.Get(codec.KeyTopic)
		if t == "" {
			t = topic
		}
		cp := m.Copy()
		cp.Metadata.Set(codec.KeyTopic, t)
		if err := p.gc.Publish(gochannelTopic, cp); err != nil {
			p.hooks.PublishFailed("closed")
			return err
		}
		p.hooks.Published(t, 1)
	}
	return nil
}

// Close closes the shared gochannel (Pair.Close does it too). It may be
// called any number of times.
func (p *gcPublisher) Close() error { return p.gc.Close() }

// gcSubscriber filters the internal topic by AMQP topic patterns.
type gcSubscriber struct {
	gc       *gochannel.GoChannel
	patterns []string
	closing  chan struct{}
	once     sync.Once
}

// Subscribe delivers the messages whose topic matches one of Options.Topics
// or, when there are none, topic (AMQP `*`/`#` semantics). Messages that do
// not match are acked and skipped. The channel is closed when ctx is done
// or the pair is closed.
func (s *gcSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	patterns := s.patterns
	if len(patterns) == 0 {
		if topic == "" {
			return nil, errors.New("subscribe: empty topic and no Topics")
		}
		patterns = []string{topic}
	}
	in, err := s.gc.Subscribe(ctx, gochannelTopic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for m := range in {
			if !matchAny(patterns, m.Metadata.Get(codec.KeyTopic)) {
				m.Ack()
				continue
			}
			select {
			case out <- m:
			case <-ctx.Done():
				// gochannel closes in now; drain it.
			case <-s.closing:
			}
		}
	}()
	return out, nil
}

// Close ends every Subscribe and, as gochannel's own Close does, closes
// the shared in-process channel, publisher included. It may be called any
// number of times.
func (s *gcSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	return s.gc.Close()
}

func matchAny(patterns []string, topic string) bool {
	for _, p := range patterns {
		if codec.TopicMatch(p, topic) {
			return true
		}
	}
	return false
}
