package codec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/generator"
)

// DefaultShardSize is the number of events per events message when
// NewSource is given a size <= 0.
const DefaultShardSize = 512

// maxShardsInFlight is how many shards of one Emit may be handed over and
// not yet acked: enough to keep every channel of a publisher's pool busy
// (the amqp transport has 8), few enough that memory does not grow with
// the size of a tick.
const maxShardsInFlight = 16

// EventsInFlight is the most events one Emit keeps encoded and not yet
// published, with DefaultShardSize: a caller that makes a tick's events
// in parts of this size (generator.ScheduleOptions.MaxBatch) holds no
// more of them than the publisher is working on.
const EventsInFlight = maxShardsInFlight * DefaultShardSize

var (
	// ErrClosed is returned by Emit and Subscribe once the Source is closed.
	ErrClosed = errors.New("source closed")
	// ErrNacked is wrapped by Emit's error when a shard was nacked (its
	// handler failed or publishing failed).
	ErrNacked = errors.New("shard nacked")
)

// Source is an in-process message.Subscriber that feeds events messages
// (see NewEventsMessage) into a watermill router, whose handler runs
// Middleware. It passes each *message.Message through unchanged, so the
// events travel in its context without serialization.
//
// Safe for concurrent use. Close it to release Emit calls and the
// subscription.
type Source struct {
	shardSize int
	out       chan *message.Message
	// subscribed and closed are closed once, under mu, when the state flips.
	subscribed chan struct{}
	closed     chan struct{}

	mu           sync.Mutex
	isSubscribed bool
	isClosed     bool
	stopAfter    func() bool // unregisters the Subscribe ctx callback
	senders      sync.WaitGroup
}

// NewSource returns a Source that splits each Emit into events messages of
// at most shardSize events (DefaultShardSize when shardSize <= 0).
func NewSource(shardSize int) *Source {
	if shardSize <= 0 {
		shardSize = DefaultShardSize
	}
	return &Source{
		shardSize:  shardSize,
		out:        make(chan *message.Message),
		subscribed: make(chan struct{}),
		closed:     make(chan struct{}),
	}
}

// Subscribe implements message.Subscriber. The Source has one subscription:
// any topic name is accepted once, and a second call fails. The channel is
// closed by Close, which ctx ending calls.
func (s *Source) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.isClosed:
		return nil, fmt.Errorf("subscribe: %w", ErrClosed)
	case s.isSubscribed:
		return nil, errors.New("subscribe: source already has a subscriber")
	}
	s.isSubscribed = true
	close(s.subscribed)
	s.stopAfter = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s.out, nil
}

// Emit sends events to the subscription as events messages of at most the
// shard size and waits until the router acked or nacked every one; all
// shards of a call may be in flight at once. Before Subscribe it blocks
// until Subscribe, Close or ctx ends.
//
// It returns nil when every shard was acked; an error wrapping ErrNacked
// when any was nacked (the others may have been published); ErrClosed or
// ctx's error when the Source closed or ctx ended first (shards already
// handed over may still be published). Emit does not retain events after it
// returns: the caller may reuse the arrays (a shard whose encoding is in
// progress is waited for; one not yet encoded is dropped by Middleware).
// Events of one app in two successive Emits are published in order, since
// the router acks a shard after publishing it.
func (s *Source) Emit(ctx context.Context, events []generator.Event) error {
	if len(events) == 0 {
		return nil
	}
	select {
	case <-s.subscribed:
	case <-s.closed:
		return fmt.Errorf("emit: %w", ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("emit: wait for a subscriber: %w", ctx.Err())
	}
	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		return fmt.Errorf("emit: %w", ErrClosed)
	}
	s.senders.Add(1) // Close waits for senders before closing out.
	s.mu.Unlock()

	n := (len(events) + s.shardSize - 1) / s.shardSize
	msgs := make([]*message.Message, 0, n)
	// The batches are kept apart from their messages: once handed over, a
	// message's context belongs to the router (it replaces it), so it is
	// not read here again.
	batches := make([]*batch, 0, n)
	defer func() {
		for _, b := range batches {
			b.abandon()
		}
	}()
	err := s.send(ctx, events, &msgs, &batches)
	s.senders.Done()
	if err != nil {
		return err
	}
	return s.wait(ctx, msgs)
}

func (s *Source) send(ctx context.Context, events []generator.Event, msgs *[]*message.Message, batches *[]*batch) error {
	for start := 0; start < len(events); start += s.shardSize {
		// Bound what is encoded and not yet published: the router encodes
		// every shard it is handed at once, so a tick of 100k events would
		// otherwise sit in memory as 100k wire messages while the publisher
		// works through them.
		if n := len(*msgs); n >= maxShardsInFlight {
			if err := s.settled(ctx, (*msgs)[n-maxShardsInFlight]); err != nil {
				return err
			}
		}
		end := min(start+s.shardSize, len(events))
		m := NewEventsMessage(events[start:end:end])
		*msgs = append(*msgs, m)
		*batches = append(*batches, batchOf(m))
		select {
		case s.out <- m:
		case <-s.closed:
			return fmt.Errorf("emit: %w", ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("emit: hand over shard: %w", ctx.Err())
		}
	}
	return nil
}

// settled waits until m was acked or nacked (wait counts which).
func (s *Source) settled(ctx context.Context, m *message.Message) error {
	select {
	case <-m.Acked():
	case <-m.Nacked():
	case <-s.closed:
		return fmt.Errorf("emit: wait for a shard: %w", ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("emit: wait for a shard: %w", ctx.Err())
	}
	return nil
}

func (s *Source) wait(ctx context.Context, msgs []*message.Message) error {
	nacked := 0
	for _, m := range msgs {
		// An outcome that is there wins over closed or ctx.
		select {
		case <-m.Acked():
			continue
		case <-m.Nacked():
			nacked++
			continue
		default:
		}
		select {
		case <-m.Acked():
		case <-m.Nacked():
			nacked++
		case <-s.closed:
			return fmt.Errorf("emit: wait for acks: %w", ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("emit: wait for acks: %w", ctx.Err())
		}
	}
	if nacked > 0 {
		return fmt.Errorf("emit: %d of %d shards: %w", nacked, len(msgs), ErrNacked)
	}
	return nil
}

// Close closes the subscription's channel and makes every blocked or later
// Emit and Subscribe return ErrClosed. It may be called any number of
// times; it always returns nil.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.isClosed {
		s.mu.Unlock()
		return nil
	}
	s.isClosed = true
	close(s.closed)
	stop := s.stopAfter
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	// No sender can start now; wait for those in flight to see closed, so
	// none sends on the channel after it is closed.
	s.senders.Wait()
	close(s.out)
	return nil
}
