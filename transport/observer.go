package transport

import "time"

// Observer is told what happens to published messages, so the app can
// count them (Prometheus) without the transport knowing about metrics.
// Implementations must be safe for concurrent use and must not block.
type Observer interface {
	// Published: n messages on topic were accepted by the broker
	// (confirmed with confirms on; written to the socket without).
	Published(topic string, n int)
	// PublishFailed: an attempt failed (reason is a short stable word:
	// "timeout", "nack", "closed", "not_connected", ...). The message may
	// still be retried.
	PublishFailed(reason string)
	// PublishDuration: how long one Publish call took.
	PublishDuration(d time.Duration)
	// Dropped: n messages were given up (outage buffer overflow or shutdown).
	Dropped(n int)
	// Unroutable: the broker returned a mandatory message on topic (no queue bound).
	Unroutable(topic string)
	// Connection: the broker connection went up (true) or down (false).
	Connection(up bool)
}

// NopObserver ignores everything. Embed it to implement only some methods.
type NopObserver struct{}

func (NopObserver) Published(string, int)         {}
func (NopObserver) PublishFailed(string)          {}
func (NopObserver) PublishDuration(time.Duration) {}
func (NopObserver) Dropped(int)                   {}
func (NopObserver) Unroutable(string)             {}
func (NopObserver) Connection(bool)               {}
