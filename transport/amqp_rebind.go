package transport

import (
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
)

// Retry pacing of messages returned as unroutable inside the rebind
// window: the first retry after rebindRetryMin, doubling up to
// rebindRetryMax. Receivers reconnect within reconnectConfig's 5 s ceiling
// (plus jitter) after a broker restart, so a 2 s step finds them bound soon
// after they are, without hammering a broker that has no queue to offer.
const (
	rebindRetryMin = 250 * time.Millisecond
	rebindRetryMax = 2 * time.Second
)

// rebindState decides what becomes of a message the broker returned as
// unroutable. After a reconnect a broker may have lost the non-durable
// exchange with every binding (a restart), and receivers bind again only
// once they have reconnected themselves. So for AMQPConfig.RebindWindow
// after each reconnect (not after the first connection) a returned message
// goes back to the outage buffer and is retried with backoff; outside the
// window it is counted as unroutable. Safe for concurrent use.
type rebindState struct {
	window time.Duration // 0: never retry

	mu      sync.Mutex
	until   time.Time     // end of the current window; zero: none yet
	retryAt time.Time     // the buffer is held (not flushed) until then
	delay   time.Duration // the next backoff step
}

// open starts a window at now: called at each reconnect.
func (r *rebindState) open(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.window <= 0 {
		return
	}
	r.until = now.Add(r.window)
	r.retryAt = time.Time{}
	r.delay = rebindRetryMin
}

// retry reports whether messages returned at now are retried (inside the
// window) and, if so, holds the buffer for the next backoff step and
// returns how long. A hold already running is kept, not extended, so the
// returns of concurrent calls share one step.
func (r *rebindState) retry(now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.until.IsZero() || now.After(r.until) {
		return 0, false
	}
	if now.Before(r.retryAt) {
		return r.retryAt.Sub(now), true
	}
	d := r.delay
	r.retryAt = now.Add(d)
	r.delay = min(2*d, rebindRetryMax)
	return d, true
}

// heldUntil is the end of the current backoff step: the buffer is not
// flushed before it. Zero or past when nothing is held.
func (r *rebindState) heldUntil() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retryAt
}

// held reports whether the buffer is held at now.
func (r *rebindState) held(now time.Time) bool { return now.Before(r.heldUntil()) }

// matchReturns pairs the broker's returns with the messages of one send:
// a return belongs to the first message not matched yet with its routing
// key and correlation id (the codec gives every event a fresh random one).
// It returns the indices in items of the returned messages, each with its
// return, in the order of returned. Returns that match no message of
// items (a message past the confirmed prefix, which is retried anyway)
// are left out.
func matchReturns(items []pubItem, returned []amqp091.Return) (idx []int, rets []amqp091.Return) {
	if len(returned) == 0 {
		return nil, nil
	}
	type id struct{ key, corr string }
	byID := make(map[id][]int, len(returned))
	for i, it := range items {
		k := id{it.key, it.msg.Metadata[codec.KeyCorrelationID]}
		byID[k] = append(byID[k], i)
	}
	for _, r := range returned {
		k := id{r.RoutingKey, r.CorrelationId}
		if q := byID[k]; len(q) > 0 {
			idx = append(idx, q[0])
			rets = append(rets, r)
			byID[k] = q[1:]
		}
	}
	return idx, rets
}
