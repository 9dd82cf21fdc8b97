package app

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/labsea/metricsender/generator"
)

// delayer holds the events a delay fault holds back and emits each at its
// time, after later ticks, so it arrives out of order. Its methods are
// safe for concurrent use.
type delayer struct {
	emit func(ctx context.Context, events []generator.Event) error

	mu      sync.Mutex
	held    heldHeap
	emitted int  // events emitted so far
	closing bool // no more holds: run returns once empty
	now     bool // emit everything held at once (a signal ended the run)
	wake    chan struct{}
}

type heldEvent struct {
	due time.Time
	seq int // order of holding, so equal dues keep it
	ev  generator.Event
}

func newDelayer(emit func(ctx context.Context, events []generator.Event) error) *delayer {
	return &delayer{emit: emit, wake: make(chan struct{}, 1)}
}

// hold keeps ev until due (its tick's time plus ev.Delay: not ev.Time,
// which a stale fault may have set back). The event's metrics are copied:
// the schedule reuses its arrays.
func (d *delayer) hold(ev generator.Event, due time.Time) {
	ev.Metrics = slices.Clone(ev.Metrics)
	d.mu.Lock()
	heap.Push(&d.held, heldEvent{due: due, seq: d.held.n, ev: ev})
	d.held.n++
	d.mu.Unlock()
	d.poke()
}

// sent returns how many held events were emitted.
func (d *delayer) sent() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.emitted
}

// len returns how many events are held.
func (d *delayer) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.held.items)
}

// close says no more events come. With now, run emits what it holds at
// once (a signal: it goes out with the buffer flush); without, each at
// its time (a run's natural end waits for them).
func (d *delayer) close(now bool) {
	d.mu.Lock()
	d.closing, d.now = true, d.now || now
	d.mu.Unlock()
	d.poke()
}

func (d *delayer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run emits held events when due until close was called and nothing is
// held, or ctx ends (ctx.Err()), or an emit fails (its error).
func (d *delayer) run(ctx context.Context) error {
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
		var due []generator.Event
		for len(d.held.items) > 0 && (d.now || !d.held.items[0].due.After(now)) {
			due = append(due, heap.Pop(&d.held).(heldEvent).ev)
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

// heldHeap orders held events by due time, then by order of holding.
type heldHeap struct {
	items []heldEvent
	n     int
}

func (h *heldHeap) Len() int { return len(h.items) }
func (h *heldHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.due.Before(b.due) || a.due.Equal(b.due) && a.seq < b.seq
}
func (h *heldHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *heldHeap) Push(x any)    { h.items = append(h.items, x.(heldEvent)) }
func (h *heldHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
