package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Pair is what a transport hands back: a watermill publisher and subscriber
// over one broker connection.
//
// Publisher.Publish(topic, msgs...) sends each message to the topic in its
// codec.KeyTopic metadata when that is set, and to topic otherwise, so one
// call can carry messages for many apps (the router publishes a whole shard
// of a tick in one call). Messages for the same topic keep their order.
//
// Subscriber.Subscribe(ctx, topic) delivers every message whose topic
// matches topic, or, when Options.Topics is set, any of those patterns
// (`*` one word, `#` zero or more words, as AMQP topic bindings).
type Pair struct {
	Publisher  message.Publisher
	Subscriber message.Subscriber
	// Ready reports nil while the broker connection is up, or why it is not.
	// Safe for concurrent use. Never nil.
	Ready func() error
	// Close releases the publisher, the subscriber and the connection. It may
	// be called any number of times.
	Close func() error
	// Node, when not nil, names the broker node (host:port, no credentials)
	// the connection went to last: with a URI list, the one that answered.
	// Safe for concurrent use.
	Node func() string
	// Drain waits until every message handed to Publisher.Publish so far
	// is settled (confirmed, counted as unroutable, or dropped), through
	// outages and reconnects; with maxOutage > 0 it gives up once an
	// outage has lasted that long, counting what is buffered as dropped.
	// It returns ctx's error when ctx ends first (then call Shutdown). The
	// natural end of a bounded run: call it after the last Publish
	// returned. A transport that holds nothing back once Publish returns
	// (gochannel, nats, a receive-only pair) returns nil at once.
	// Never nil.
	Drain func(ctx context.Context, maxOutage time.Duration) error
	// Shutdown is the end on a signal: new Publish calls fail, buffered
	// messages are flushed until ctx is done, and whatever is left is
	// counted as dropped and logged. Only the first call does the work.
	// Close still releases the connection afterwards. A transport that
	// buffers nothing returns nil at once (Close does it all). Never nil.
	Shutdown func(ctx context.Context) error
}

// Options are the transport-independent settings, filled from flags and the
// config file by the app.
type Options struct {
	// URI of the broker, or a comma-separated list of the nodes of one
	// cluster (AMQP, NATS). Empty means the transport's default.
	URI string
	// Exchange is the is-wire exchange (AMQP only); empty means "is".
	Exchange string
	// Confirm makes Publish return only after the broker confirmed every message.
	Confirm bool
	// Topics are the binding patterns of the subscriber (receive side).
	Topics []string
	// Queue, when set, is a durable named queue to consume instead of an
	// exclusive auto-delete one (receive side).
	Queue string
	// TLS for amqps:// (nil: system defaults).
	TLS *tls.Config
	// ConnectTimeout bounds the start-up connection retries; 0 retries until
	// ctx is done.
	ConnectTimeout time.Duration
	// PublishTimeout bounds one Publish call (guards against a publish that
	// would otherwise block forever). 0 means a sensible default.
	PublishTimeout time.Duration
	// Buffer is how many messages wait while the broker is unreachable
	// before the oldest are dropped (counted). 0 means a sensible default.
	Buffer int
	// RebindWindow is how long after each reconnect messages the broker
	// returns as unroutable are retried (AMQP with confirms only; see
	// AMQPConfig.RebindWindow). 0 means the default (30s); < 0 turns the
	// retry off.
	RebindWindow time.Duration
	// Hooks are told about published, failed and dropped messages; nil
	// means NopPublishHooks.
	Hooks PublishHooks
	// ReceiveOnly leaves Pair.Publisher nil, for a process that only
	// consumes: no publisher is opened (for AMQP: no publish channels, no
	// outage buffer, none of its logging).
	ReceiveOnly bool
}

// ErrPermanent marks a failure that retrying cannot fix: wrong credentials
// (403 ACCESS_REFUSED), a vhost that does not exist or is not allowed, a TLS
// handshake that fails on the certificates, an exchange declared with other
// flags (406 PRECONDITION_FAILED). Match it with errors.Is; the app exits 1
// at once instead of retrying.
var ErrPermanent = errors.New("permanent failure")

// Factory builds a Pair. ctx bounds the start-up (connection retries).
type Factory func(ctx context.Context, opts Options, logger *slog.Logger) (Pair, error)

// factories is the registry of transports; it also feeds the --transport help.
var factories = map[string]Factory{
	"amqp":      NewAMQP,
	"gochannel": NewGoChannel,
	"nats":      NewNATS,
}

// Names lists the registered transports, sorted.
func Names() []string {
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// New builds the named transport. A nil logger discards logs.
func New(ctx context.Context, name string, opts Options, logger *slog.Logger) (Pair, error) {
	f, ok := factories[name]
	if !ok {
		return Pair{}, fmt.Errorf("unknown transport %q (known: %v)", name, Names())
	}
	return f(ctx, opts, orDiscard(logger).With("transport", name))
}

// pairPublisher is p as a Pair's Publisher: nil (untyped) for a
// receive-only pair.
func pairPublisher(p message.Publisher, receiveOnly bool) message.Publisher {
	if receiveOnly {
		return nil
	}
	return p
}

// noDrain and noShutdown are Pair.Drain and Pair.Shutdown for a publisher
// that holds nothing back once Publish returns.
func noDrain(context.Context, time.Duration) error { return nil }

func noShutdown(context.Context) error { return nil }

// orDiscard is logger, or a logger that discards when it is nil.
func orDiscard(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return logger
}
