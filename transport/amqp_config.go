package transport

import (
	"crypto/tls"
	"time"
)

// AMQPConfig configures the amqp transport. Start from DefaultAMQPConfig.
type AMQPConfig struct {
	// URI is amqp:// or amqps://, or a comma-separated list of them naming
	// the nodes of one cluster (see SplitURIs, CheckURIList): the
	// connection goes to the first node that answers, trying them in a
	// random order, and to the next one after a loss.
	URI string
	// Exchange is declared exactly as is-wire does: type topic,
	// durable=false, auto_delete=false, internal=false, no arguments.
	Exchange string
	// Confirm puts publish channels in confirm mode; Publish then returns
	// only when the broker confirmed every message of the call.
	Confirm bool
	// ChannelPoolSize is how many publish channels run in parallel (> 0).
	ChannelPoolSize int
	// PublishTimeout bounds one Publish call, confirms included.
	PublishTimeout time.Duration
	// Mandatory publishes with the mandatory flag and counts returns.
	Mandatory bool
	// Topics are the binding patterns of the subscriber's queue.
	Topics []string
	// Queue, when set, names a durable queue to consume (see Options.Queue).
	Queue string
	// Prefetch is the consumer's QoS prefetch count.
	Prefetch int
	// TLS for amqps:// (nil: system defaults).
	TLS *tls.Config
	// ConnectTimeout bounds start-up connection retries; 0 = until ctx is done.
	ConnectTimeout time.Duration
	// Buffer is the outage buffer size in messages.
	Buffer int
	// RebindWindow is how long after each reconnect (not after the first
	// connection) a message the broker returns as unroutable is put back
	// in the buffer and retried with backoff instead of being counted as
	// unroutable: receivers bind their queues again only after they have
	// reconnected too. Only with Confirm and Mandatory. 0 turns it off.
	RebindWindow time.Duration
	// Hooks are told about publishes; nil means NopPublishHooks.
	Hooks PublishHooks
	// ReceiveOnly opens no publisher: Pair.Publisher is nil.
	ReceiveOnly bool
}

// DefaultAMQPConfig returns a complete, working config for uri.
func DefaultAMQPConfig(uri string) AMQPConfig {
	return AMQPConfig{
		URI:             uri,
		Exchange:        "is",
		Confirm:         true,
		ChannelPoolSize: 8,
		PublishTimeout:  30 * time.Second,
		Mandatory:       true,
		Topics:          []string{"Metrics.*"},
		Prefetch:        1000,
		Buffer:          100000,
		RebindWindow:    30 * time.Second,
	}
}

// DefaultAMQPURI is is-wire's default broker.
const DefaultAMQPURI = "amqp://guest:guest@localhost:5672/"
