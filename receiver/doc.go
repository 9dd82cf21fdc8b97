// Package receiver is the handler of received Metrics messages: decode
// (codec), count, check (checker), print (text or JSON lines). It is what
// `receive` runs on each delivery and what `send` runs for the in-process
// transport's demo receiver.
//
// Contract: a message that does not decode is counted, warned about
// (throttled) and acked, never nacked into a redelivery loop. With a
// count, the messages past it are not printed and not in Counts (the
// Counter and the checker still see them: /metrics counts what arrived),
// and Done is called when it is reached, or once the checker's --expect
// is met, after the message is acked; Done may be called again for later
// messages, so it must be idempotent (a context's cancel is). Handle is
// safe for concurrent use.
package receiver
