// Package codec is the is-wire codec: generator.Event <-> watermill
// message.Message. It is pure Go and imports no broker client; transports
// map the message's metadata onto their own properties and headers (see
// package transport for AMQP and NATS). WIRE.md in the repository is the
// contract this package implements.
//
// # The wire message
//
// Encode turns one event into one message:
//
//	metadata key            value                       AMQP (set by the transport)
//	iswire.topic            Metrics.app1                routing key
//	iswire.reply_to         app1                        reply_to
//	iswire.correlation_id   9F3A0C11D2E4B577            correlation_id
//	iswire.timestamp_ms     1795627800000               timestamp (in ms, see WIRE.md)
//	iswire.content_type     application/json            content_type
//	metric.cpu              0.5                         headers["cpu"]
//	metric.memory           512                         headers["memory"]
//	payload                 the JSON envelope           body
//
// The codec's own keys carry the "iswire." prefix and the metrics the
// "metric." prefix, so a metric named reply_to cannot collide with the
// property. Only the metric.* entries become AMQP headers, with the prefix
// stripped: legacy receivers print every header as a resource. The
// correlation id is a random uint64 in upper-case hex without padding
// (Python parses it with int(x, 16)); it is also the message UUID.
//
// The payload is a JSON envelope for consumers that want more than the
// headers:
//
//	{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.000Z"}
//
// seq counts from 1 per app within one run and run identifies the process
// run, so a receiver can prove nothing was lost or doubled. Values are
// strings, exactly the text sent in the headers.
//
// # What Decode reads
//
// Decode reads a message as the Python receiver (is-wire-py) does: the
// headers are the message, whatever the body. Ours, the Python sender's
// (empty body, no content type, content_encoding utf-8), and any other
// is-wire publisher's (a protobuf body, another program's JSON) are all
// read: the metrics from the headers, the app from reply_to or else the
// topic after "Metrics.", the time from the millisecond timestamp. The body
// adds seq and run only when it is our envelope, parsed strictly (known
// fields, their types, nothing after it), and agrees with the headers; an
// envelope that disagrees is reported in Received.Mismatch and otherwise
// ignored. The rpc-status header of an is-wire reply is not a metric.
// Content types other than empty, application/json and
// application/x-protobuf are what is-wire refuses, and so are errors. A
// transport that cannot map a delivery (a header of a type is-wire does not
// print) sets KeyDecodeError instead of failing, and Decode returns that as
// the error: the receiver counts and reports it rather than nacking it in a
// loop. Every failure wraps ErrDecode.
//
// # Printing what was received
//
// AppendText prints a Received as the Python receiver does (receive's
// text output, the parity contract), and AppendJSONLine as one JSON object
// a line (receive --output json, which metricsender check reads back).
// Strings in the line are quoted by AppendJSONString, exactly as
// encoding/json does; the envelope uses the same writer in the form the
// wire has always carried (no HTML escaping).
//
// # The Allocation message
//
// What an operator applied to an app travels back on Allocation.{app}
// (WIRE.md): reply_to the app, the correlation id of the request it
// answers, the timestamp, and the values as string headers (replicas,
// ready, and any other header an allocation of that name), no body.
// Allocation is that message; EncodeAllocation and DecodeAllocation are
// its two directions, and this package is their one home. DecodeAllocation
// reads the metadata by DecodeTopic's rules and parses each header's text
// once, by generator.ParseNumber's rule (the rule of the observed state:
// quantities to the thousandth, at most 9e15), not by the looser number
// rule of a Metrics message's Received.Metrics.
//
// # Events through the router
//
// The send path is generator -> Source -> watermill router -> Middleware
// -> publisher. Source.Emit hands the router events messages: a shard of
// events in the message's context, unserialized (NewEventsMessage,
// EventsOf). The router's handler passes them on, and Middleware replaces
// each by one wire message per event, so the publisher receives a whole
// shard in one Publish call and still puts one wire message per event on
// the broker. Emit returns once the router acked (published) every shard,
// which keeps the events of one app in order from tick to tick.
package codec
