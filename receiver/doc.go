// Package receiver is the handler of received Metrics messages: decode
// (codec), count, check (checker), print (text or JSON lines). It is what
// `receive` runs on each delivery and what `send` runs for the in-process
// transport's demo receiver.
//
// Contract: a message that does not decode is counted, warned about
// (throttled) and acked, never nacked into a redelivery loop. With a
// count, the messages past it are neither printed nor counted as
// received, and Done is called once when it is reached (or when the
// checker's --expect is met), after the message is acked. Handle is safe
// for concurrent use.
package receiver
