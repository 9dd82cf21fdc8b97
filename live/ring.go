package live

// ring keeps the last cap items pushed, each with its index (0, 1, 2, …
// in push order), so that a reader that has seen up to an index asks for
// what came after. Its memory is bounded by its capacity. Not safe for
// concurrent use: the Hub's lock guards every ring.
type ring[T any] struct {
	buf  []T    // item i is at buf[i % len(buf)]
	held int    // items held, at most len(buf)
	next uint64 // the index of the next push
}

func newRing[T any](n int) *ring[T] { return &ring[T]{buf: make([]T, max(n, 1))} }

// push adds v, overwriting the oldest item when the ring is full.
func (r *ring[T]) push(v T) {
	r.buf[r.next%uint64(len(r.buf))] = v
	r.next++
	r.held = min(r.held+1, len(r.buf))
}

// since returns, oldest first, the items still held whose index is at
// least from, at most the last n of them (n < 0: all), and the index of
// the next push (where the reader continues).
func (r *ring[T]) since(from uint64, n int) ([]T, uint64) {
	from = max(from, r.next-uint64(r.held))
	if n >= 0 && r.next-from > uint64(n) {
		from = r.next - uint64(n)
	}
	out := make([]T, 0, r.next-from)
	for i := from; i < r.next; i++ {
		out = append(out, r.buf[i%uint64(len(r.buf))])
	}
	return out, r.next
}

// grown returns a ring of capacity n holding r's items with their
// indexes (r itself when it is already that large).
func (r *ring[T]) grown(n int) *ring[T] {
	if n <= len(r.buf) {
		return r
	}
	items, next := r.since(0, -1)
	g := &ring[T]{buf: make([]T, n), next: next - uint64(len(items))}
	for _, v := range items {
		g.push(v)
	}
	return g
}
