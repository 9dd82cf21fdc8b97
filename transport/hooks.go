package transport

import "time"

// PublishHooks are told what happens to published messages, so the app
// can count them (Prometheus) without the transport knowing about metrics.
// (Not to be confused with the observations of the feedback side: these
// hooks only ever report on messages this process publishes.)
// Implementations must be safe for concurrent use and must not block.
type PublishHooks interface {
	// Published: n messages on topic were accepted by the broker
	// (confirmed and not returned with confirms on; written to the socket
	// without). Each message is counted once, however often it was sent.
	Published(topic string, n int)
	// PublishFailed: an attempt failed (reason is a short stable word:
	// "timeout", "nack", "closed", "not_connected", ...). The message may
	// still be retried.
	PublishFailed(reason string)
	// PublishDuration: how long one Publish call took.
	PublishDuration(d time.Duration)
	// Dropped: n messages were given up, for reason (a short stable word:
	// DropBufferFull, DropShutdown, DropOutage, DropFailed). A message is
	// counted once, and then neither as published nor as unroutable.
	Dropped(n int, reason string)
	// Unroutable: the broker returned a mandatory message on topic (no queue
	// bound) and it is not retried. A message returned inside the AMQP
	// rebind window is retried instead: it is reported as
	// PublishFailed("unroutable"), and later as Published, Unroutable or
	// Dropped.
	Unroutable(topic string)
	// Connection: the broker connection went up (true) or down (false).
	Connection(up bool)
}

// NopPublishHooks ignores everything. Embed it to implement only some methods.
type NopPublishHooks struct{}

func (NopPublishHooks) Published(string, int)         {}
func (NopPublishHooks) PublishFailed(string)          {}
func (NopPublishHooks) PublishDuration(time.Duration) {}
func (NopPublishHooks) Dropped(int, string)           {}
func (NopPublishHooks) Unroutable(string)             {}
func (NopPublishHooks) Connection(bool)               {}
