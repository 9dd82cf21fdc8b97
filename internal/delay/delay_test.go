package delay_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/delay"
)

// emitted is what a Queue handed on, with when.
type emitted struct {
	mu    sync.Mutex
	items []int
	at    []time.Time
	calls int
}

func (e *emitted) emit(_ context.Context, items []int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	for _, it := range items {
		e.items = append(e.items, it)
		e.at = append(e.at, time.Now())
	}
	return nil
}

func (e *emitted) get() ([]int, []time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.items), slices.Clone(e.at)
}

// start runs q until the test ends and returns a wait for Run's result
// (bounded, so a stuck Run fails the test instead of hanging it).
func start(t *testing.T, q *delay.Queue[int]) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	var once sync.Once
	var err error
	wait := func() error {
		once.Do(func() {
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() {
		cancel()
		_ = wait()
	})
	return wait
}

func TestQueueOrder(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		dues []time.Duration // item i is held due now+dues[i]
		want []int
	}{
		{"by due time, not by holding", []time.Duration{60 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}, []int{1, 2, 0}},
		{"equal dues keep the order held", []time.Duration{30 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond}, []int{0, 1, 2}},
		{"already due goes out at once", []time.Duration{-time.Second, 0}, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e emitted
			q := delay.New(e.emit)
			for i, d := range tt.dues {
				q.Hold(i, now.Add(d))
			}
			if q.Len() != len(tt.dues) {
				t.Errorf("Len = %d, want %d", q.Len(), len(tt.dues))
			}
			wait := start(t, q)
			q.Close(false)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			items, at := e.get()
			if !slices.Equal(items, tt.want) {
				t.Errorf("emitted %v, want %v", items, tt.want)
			}
			for i, it := range items {
				if due := now.Add(tt.dues[it]); at[i].Before(due) {
					t.Errorf("item %d emitted %s before its time", it, due.Sub(at[i]))
				}
			}
			if q.Sent() != len(tt.dues) || q.Len() != 0 {
				t.Errorf("Sent %d, Len %d; want %d, 0", q.Sent(), q.Len(), len(tt.dues))
			}
		})
	}
}

// Close(true) sends what is held at once, far before its time.
func TestQueueCloseNow(t *testing.T) {
	var e emitted
	q := delay.New(e.emit)
	wait := start(t, q)
	q.Hold(1, time.Now().Add(time.Hour))
	q.Hold(2, time.Now().Add(time.Minute))
	q.Close(true)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if items, _ := e.get(); !slices.Equal(items, []int{2, 1}) || e.calls != 1 {
		t.Errorf("emitted %v in %d calls, want [2 1] in one", items, e.calls)
	}
}

// An item held while Run waits for a later one wakes it.
func TestQueueHoldWakesRun(t *testing.T) {
	var e emitted
	q := delay.New(e.emit)
	wait := start(t, q)
	q.Hold(1, time.Now().Add(time.Hour))
	time.Sleep(20 * time.Millisecond) // Run now waits for the hour
	q.Hold(2, time.Now())
	deadline := time.Now().Add(10 * time.Second)
	for q.Sent() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if items, _ := e.get(); !slices.Equal(items, []int{2}) {
		t.Errorf("emitted %v, want [2]", items)
	}
	if q.Len() != 1 {
		t.Errorf("Len %d, want 1 still held", q.Len())
	}
	q.Close(true)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// Run ends with ctx's error, or with the first failing emit's.
func TestQueueRunErrors(t *testing.T) {
	wait := func(t *testing.T, done <-chan error) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
	t.Run("ctx", func(t *testing.T) {
		q := delay.New(func(context.Context, []int) error { return nil })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- q.Run(ctx) }()
		q.Hold(1, time.Now().Add(time.Hour))
		cancel()
		if err := wait(t, done); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
	t.Run("emit", func(t *testing.T) {
		boom := errors.New("boom")
		q := delay.New(func(context.Context, []int) error { return boom })
		done := make(chan error, 1)
		go func() { done <- q.Run(context.Background()) }()
		q.Hold(1, time.Now())
		if err := wait(t, done); !errors.Is(err, boom) {
			t.Errorf("Run = %v, want boom", err)
		}
		if q.Sent() != 0 {
			t.Errorf("Sent %d after a failed emit, want 0", q.Sent())
		}
	})
}
