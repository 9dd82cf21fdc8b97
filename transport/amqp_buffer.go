package transport

import (
	"sync"
	"sync/atomic"
)

// outageBuffer is the bounded FIFO where messages wait while the broker is
// unreachable. Pushing past its capacity drops the oldest messages. Safe for
// concurrent use.
type outageBuffer struct {
	capacity int
	n        atomic.Int64 // len(q) - head, readable without the lock

	mu   sync.Mutex
	q    []pubItem
	head int
}

func newOutageBuffer(capacity int) *outageBuffer {
	return &outageBuffer{capacity: max(capacity, 1)}
}

// Len is the number of waiting messages.
func (b *outageBuffer) Len() int { return int(b.n.Load()) }

// push appends items after the waiting ones and returns how many of the
// oldest were dropped to stay within capacity.
func (b *outageBuffer) push(items []pubItem) (dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.q = append(b.q, items...)
	return b.trimLocked()
}

// pushFront puts items back before the waiting ones (a flush that was cut
// off), keeping their place in the order. On overflow the oldest (the
// front of items) are dropped.
func (b *outageBuffer) pushFront(items []pubItem) (dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := make([]pubItem, 0, len(items)+len(b.q)-b.head)
	q = append(q, items...)
	b.q = append(q, b.q[b.head:]...)
	b.head = 0
	return b.trimLocked()
}

// trimLocked drops the oldest messages beyond capacity and compacts.
func (b *outageBuffer) trimLocked() (dropped int) {
	if over := len(b.q) - b.head - b.capacity; over > 0 {
		clear(b.q[b.head : b.head+over])
		b.head += over
		dropped = over
	}
	b.compactLocked()
	return dropped
}

func (b *outageBuffer) compactLocked() {
	if b.head > 0 && b.head >= len(b.q)/2 {
		n := copy(b.q, b.q[b.head:])
		clear(b.q[n:])
		b.q = b.q[:n]
		b.head = 0
	}
	b.n.Store(int64(len(b.q) - b.head))
}

// popFront removes up to limit of the oldest messages, appending them to dst.
func (b *outageBuffer) popFront(dst []pubItem, limit int) []pubItem {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := min(b.head+limit, len(b.q))
	dst = append(dst, b.q[b.head:end]...)
	clear(b.q[b.head:end])
	b.head = end
	b.compactLocked()
	return dst
}

// clear empties the buffer and returns how many messages it held.
func (b *outageBuffer) clear() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.q) - b.head
	b.q, b.head = nil, 0
	b.n.Store(0)
	return n
}
