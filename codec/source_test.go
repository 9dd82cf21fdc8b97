package codec_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
)

// emitAsync runs Emit in a goroutine and returns its result channel.
func emitAsync(ctx context.Context, src *codec.Source, n int) <-chan error {
	done := make(chan error, 1)
	go func() { done <- src.Emit(ctx, tickEvents(n, 1)) }()
	return done
}

func subscribe(t *testing.T, src *codec.Source) <-chan *message.Message {
	t.Helper()
	ch, err := src.Subscribe(context.Background(), "events")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return ch
}

func TestSourceLifecycle(t *testing.T) {
	t.Run("Close releases an Emit waiting for a subscriber", func(t *testing.T) {
		src := codec.NewSource(0)
		done := emitAsync(context.Background(), src, 3)
		if err := src.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-done; !errors.Is(err, codec.ErrClosed) {
			t.Fatalf("Emit = %v, want ErrClosed", err)
		}
	})
	t.Run("Close releases an Emit waiting for acks, and the events are dropped", func(t *testing.T) {
		src := codec.NewSource(0)
		ch := subscribe(t, src)
		done := emitAsync(context.Background(), src, 3)
		msg := <-ch
		if got := len(codec.EventsOf(msg)); got != 3 {
			t.Fatalf("events message carries %d events, want 3", got)
		}
		_ = src.Close()
		if err := <-done; !errors.Is(err, codec.ErrClosed) {
			t.Fatalf("Emit = %v, want ErrClosed", err)
		}
		if got := codec.EventsOf(msg); got != nil {
			t.Errorf("events still reachable after Emit returned: %d", len(got))
		}
		out, err := codec.Middleware()(passThrough)(msg)
		if !errors.Is(err, context.Canceled) || out != nil {
			t.Errorf("middleware on an abandoned shard = %d messages, %v; want an error wrapping context.Canceled", len(out), err)
		}
		if _, open := <-ch; open {
			t.Errorf("subscription channel still open after Close")
		}
	})
	t.Run("Close while a shard is being handed over", func(t *testing.T) {
		src := codec.NewSource(1)
		ch := subscribe(t, src)
		done := emitAsync(context.Background(), src, 5)
		(<-ch).Ack() // the first shard; the second waits for a reader
		_ = src.Close()
		if err := <-done; !errors.Is(err, codec.ErrClosed) {
			t.Fatalf("Emit = %v, want ErrClosed", err)
		}
	})
	t.Run("ctx ends while waiting for acks", func(t *testing.T) {
		src := codec.NewSource(0)
		t.Cleanup(func() { _ = src.Close() })
		ch := subscribe(t, src)
		ctx, cancel := context.WithCancel(context.Background())
		done := emitAsync(ctx, src, 2)
		msg := <-ch
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Emit = %v, want context.Canceled", err)
		}
		if codec.EventsOf(msg) != nil {
			t.Errorf("events still reachable after Emit returned")
		}
	})
	t.Run("ctx ends before a subscriber", func(t *testing.T) {
		src := codec.NewSource(0)
		t.Cleanup(func() { _ = src.Close() })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := src.Emit(ctx, tickEvents(1, 1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Emit = %v, want context.Canceled", err)
		}
	})
	t.Run("acked and nacked shards", func(t *testing.T) {
		src := codec.NewSource(2)
		t.Cleanup(func() { _ = src.Close() })
		ch := subscribe(t, src)
		done := emitAsync(context.Background(), src, 5) // shards of 2, 2, 1
		(<-ch).Ack()
		(<-ch).Nack()
		(<-ch).Ack()
		if err := <-done; !errors.Is(err, codec.ErrNacked) {
			t.Fatalf("Emit = %v, want ErrNacked", err)
		}
		done = emitAsync(context.Background(), src, 3)
		(<-ch).Ack()
		(<-ch).Ack()
		if err := <-done; err != nil {
			t.Fatalf("Emit = %v, want nil", err)
		}
	})
	t.Run("Emit of nothing returns at once", func(t *testing.T) {
		src := codec.NewSource(0)
		if err := src.Emit(context.Background(), nil); err != nil {
			t.Fatalf("Emit(nil) = %v", err)
		}
	})
	t.Run("one subscription; Close is idempotent", func(t *testing.T) {
		src := codec.NewSource(0)
		subscribe(t, src)
		if _, err := src.Subscribe(context.Background(), "again"); err == nil {
			t.Errorf("second Subscribe succeeded")
		}
		for range 3 {
			if err := src.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
		if _, err := src.Subscribe(context.Background(), "x"); !errors.Is(err, codec.ErrClosed) {
			t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
		}
		if err := src.Emit(context.Background(), tickEvents(1, 1)); !errors.Is(err, codec.ErrClosed) {
			t.Errorf("Emit after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("the subscription's ctx ending closes the source", func(t *testing.T) {
		src := codec.NewSource(0)
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := src.Subscribe(ctx, "events")
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, open := <-ch; open {
			t.Fatalf("channel open after the subscription ctx ended")
		}
		if err := src.Emit(context.Background(), tickEvents(1, 1)); !errors.Is(err, codec.ErrClosed) {
			t.Errorf("Emit = %v, want ErrClosed", err)
		}
	})
}

type routerKey struct{}

// The router replaces the context of every message it is handed (its
// handler context) while the Emit that sent it may return early: Emit must
// not read a handed-over message again (go test -race caught that).
func TestSourceEmitEndsWhileTheRouterHoldsShards(t *testing.T) {
	src := codec.NewSource(1)
	t.Cleanup(func() { _ = src.Close() })
	ch := subscribe(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	done := emitAsync(ctx, src, 3)
	taken := make(chan struct{})
	handled := make(chan struct{})
	go func() { // the router: takes every shard, then sets their contexts
		defer close(handled)
		var held []*message.Message
		for range 3 {
			held = append(held, <-ch)
		}
		close(taken)
		time.Sleep(20 * time.Millisecond) // while Emit returns
		for _, m := range held {
			m.SetContext(context.WithValue(m.Context(), routerKey{}, true)) // never acked
		}
	}()
	<-taken
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Emit = %v, want context.Canceled", err)
	}
	<-handled
}
