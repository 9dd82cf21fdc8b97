package delay

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Queue holds items until their time and emits each then: the events a
// delay fault holds back (they arrive after later ticks, out of order),
// the stand-in operator's decisions (applied after its actuation delay).
// Items due at the same time keep the order they were held in. Build it
// with New; its methods are safe for concurrent use.
type Queue[T any] struct {
	emit func(ctx context.Context, items []T) error

	mu      sync.Mutex
	held    heldHeap[T]
	emitted int  // items emitted so far
	closing bool // no more holds: run returns once empty
	now     bool // emit everything held at once (a signal ended the run)
	wake    chan struct{}
}

type heldItem[T any] struct {
	due  time.Time
	seq  int // order of holding, so equal dues keep it
	item T
}

// New returns a Queue that hands what is due to emit. Start it with Run.
func New[T any](emit func(ctx context.Context, items []T) error) *Queue[T] {
	return &Queue[T]{emit: emit, wake: make(chan struct{}, 1)}
}

// Hold keeps item until due. It must not share memory its caller reuses.
func (d *Queue[T]) Hold(item T, due time.Time) {
	d.mu.Lock()
	heap.Push(&d.held, heldItem[T]{due: due, seq: d.held.n, item: item})
	d.held.n++
	d.mu.Unlock()
	d.poke()
}

// Sent returns how many held items were emitted.
func (d *Queue[T]) Sent() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.emitted
}

// Len returns how many items are held.
func (d *Queue[T]) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.held.items)
}

// Close says no more items come. With now, Run emits what it holds at
// once (a signal: it goes out with the buffer flush); without, each at
// its time (a run's natural end waits for them).
func (d *Queue[T]) Close(now bool) {
	d.mu.Lock()
	d.closing, d.now = true, d.now || now
	d.mu.Unlock()
	d.poke()
}

func (d *Queue[T]) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run emits held items when due until Close was called and nothing is
// held, or ctx ends (ctx.Err()), or an emit fails (its error). Call it
// once.
func (d *Queue[T]) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		d.mu.Lock()
		if len(d.held.items) == 0 {
			closing := d.closing
			d.mu.Unlock()
			if closing {
				return nil
			}
			select {
			case <-d.wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		now := time.Now()
		var due []T
		for len(d.held.items) > 0 && (d.now || !d.held.items[0].due.After(now)) {
			due = append(due, heap.Pop(&d.held).(heldItem[T]).item)
		}
		next := time.Time{}
		if len(d.held.items) > 0 {
			next = d.held.items[0].due
		}
		d.mu.Unlock()
		if len(due) > 0 {
			if err := d.emit(ctx, due); err != nil {
				return err
			}
			d.mu.Lock()
			d.emitted += len(due)
			d.mu.Unlock()
			continue
		}
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
		case <-d.wake:
			timer.Stop()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// heldHeap orders held items by due time, then by order of holding.
type heldHeap[T any] struct {
	items []heldItem[T]
	n     int
}

func (h *heldHeap[T]) Len() int { return len(h.items) }
func (h *heldHeap[T]) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.due.Before(b.due) || a.due.Equal(b.due) && a.seq < b.seq
}
func (h *heldHeap[T]) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *heldHeap[T]) Push(x any)    { h.items = append(h.items, x.(heldItem[T])) }
func (h *heldHeap[T]) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
