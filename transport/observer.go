package transport

import "time"

// Observer is told what happens to published messages, so the app can
// count them (Prometheus) without the transport knowing about metrics.
// Implementations must be safe for concurrent use and must not block.
type Observer interface {
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

// NopObserver ignores everything. Embed it to implement only some methods.
type NopObserver struct{}

func (NopObserver) Published(string, int)         {}
func (NopObserver) PublishFailed(string)          {}
func (NopObserver) PublishDuration(time.Duration) {}
func (NopObserver) Dropped(int, string)           {}
func (NopObserver) Unroutable(string)             {}
func (NopObserver) Connection(bool)               {}
