// Package transport builds the publisher/subscriber pair metricsender
// sends and receives with: watermill's message.Publisher and
// message.Subscriber over a broker chosen by name (--transport).
//
// # Transports
//
//	name       Factory       what it is
//	amqp       NewAMQP       RabbitMQ, is-wire compatible (the default)
//	gochannel  NewGoChannel  in-process, no broker: for trying the tool and for tests
//	nats       NewNATS       core NATS: same subjects and fields, at-most-once, no --queue
//
// New(ctx, name, opts, logger) looks the name up in one literal map, which
// also feeds the --transport help (Names). A new transport is one file and
// one line in that map, and must pass transporttest.Run.
//
// # Topics
//
// A watermill topic here is an is-wire topic: dot-separated words, the
// first being Metrics for metric messages (Metrics.app1). The mapping to
// AMQP trips people up, so here it is:
//
//   - Publish(topic, msgs...) sends each message to the exchange "is"
//     (Options.Exchange) with the routing key taken from the message's
//     codec.KeyTopic metadata, or topic when that is unset. One call may
//     therefore carry messages for many apps. The topic never names an
//     exchange or a queue. Nothing goes to the default exchange.
//   - The exchange is declared exactly as every is-wire Channel() declares
//     it: type topic, durable=false, auto_delete=false, internal=false, no
//     arguments. Other flags make the broker answer 406 PRECONDITION_FAILED
//     to us or to every later Python client; we report that as ErrPermanent.
//   - Subscribe(ctx, topic) consumes one queue bound to the exchange with
//     each pattern of Options.Topics (or with topic when there are none):
//     Metrics.* (`*` one word: Metrics.app1 but not Metrics.a.b), Metrics.#
//     (`#` zero or more words). All patterns feed one queue, so one
//     Subscribe sees them all in queue order. Received messages carry their
//     routing key in codec.KeyTopic.
//   - The queue: by default `<hostname>/<16 upper hex>`, a name generated
//     once per process (as is-wire names its queues), exclusive,
//     auto-delete, non-durable: it lives as long as the connection, and
//     what is published while the receiver is away or reconnecting is lost
//     by design. Never a server-named "" queue: the name must survive a
//     reconnect. With Options.Queue (--queue NAME): an existing queue is
//     consumed as it is (only the bindings are added); a missing one is
//     created durable, as a quorum queue with x-delivery-limit 5, so it
//     keeps messages across restarts and connection cuts, and a message
//     that keeps breaking the client is dropped after 5 deliveries instead
//     of looping. Delete it with `rabbitmqctl delete_queue NAME`.
//
// gochannel has no exchange and no wildcards: every message travels on one
// internal topic with its real topic in codec.KeyTopic, and the subscriber
// filters with the same `*`/`#` semantics (codec.TopicMatch). It keeps
// nothing: a message published while no Subscribe is active is dropped,
// so start the subscriber first (the app waits on router.Running()).
//
// # Connection
//
// NewAMQP retries while the broker is unreachable (backoff from 500ms to
// 30s with jitter, one log line per attempt) until it connects, ctx is
// done or Options.ConnectTimeout elapses; wrong credentials, a missing or
// forbidden vhost and TLS certificate failures return ErrPermanent at
// once. Afterwards the connection reconnects by itself; Pair.Ready reports
// whether it is up. Every URI in a log line or an error goes through
// RedactURI.
//
// # Code layout of the AMQP transport
//
// The amqp transport is one type per idea, in files whose calls run one
// way, top to bottom (a file calls only files listed below it; "(type)"
// marks a file whose methods hang on amqpPublisher):
//
//	amqp.go            NewAMQP, NewAMQPConfig: config, connect, build the Pair
//	amqp_publish.go    (type) amqpPublisher: its contract, constructor, Publish
//	amqp_drain.go      (type) Drain, Shutdown, Close: the end of a run
//	amqp_reconnect.go  (type) the loop that replaces the session after a loss
//	amqp_flush.go      (type) the outage buffer's flushing: flush, kick, drainLoop
//	amqp_deliver.go    (type) deliver one batch over the pool, settle confirms
//	amqp_channel.go    pubChannel (open, send, returns) and channelPool
//	amqp_session.go    session: one connection, the exchange declared on it
//	amqp_drops.go      dropLog: what is given up, counted and logged
//	amqp_buffer.go     outageBuffer: the bounded FIFO, pure
//	amqp_rebind.go     rebindState, matchReturns: the rebind window, pure
//	amqp_connect.go    connectAMQP, connWatch, connTracker: the connection
//	amqp_nodes.go      the dialers: one node, or a cluster's URI list
//	amqp_subscribe.go  amqpSubscriber, with amqp_subscribe_ack.go (the ack
//	                   writer), amqp_topology.go, amqp_poison.go
//	amqp_marshal.go    the is-wire marshaler, with amqp_pytext.go
//
// The leaves know nothing of the publisher: a session reports its end
// through sessionEvents, a channel reports unroutable returns through a
// func, and the drop accounting is its own type. The one loop left is
// inside amqp_flush.go: a flush that puts returned messages back kicks a
// drain, which flushes again. The publisher stays in this package rather
// than a subpackage: it shares Pair, Options, PublishHooks, ErrPermanent,
// the Drop words and RedactURI with the rest of the package, and
// transport.New's registry names NewAMQP, so a transport/amqp package
// would either import transport (a cycle through the registry) or need
// those moved to a third package, an API change for no reader's gain.
package transport
