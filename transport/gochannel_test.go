package transport_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/transport"
	"github.com/labsea/metricsender/transport/transporttest"
)

func TestGoChannelSuite(t *testing.T) {
	transporttest.Run(t, transporttest.Features{Ordered: true, HashMatchesZeroWords: true},
		func(t *testing.T, topics []string) transport.Pair {
			t.Helper()
			p, err := transport.NewGoChannel(context.Background(), transport.Options{Topics: topics}, nil)
			if err != nil {
				t.Fatalf("NewGoChannel: %v", err)
			}
			return p
		})
}

// countingHooks records Published calls.
type countingHooks struct {
	transport.NopPublishHooks
	mu        sync.Mutex
	published map[string]int
}

func (o *countingHooks) Published(topic string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.published[topic] += n
}

func TestGoChannelHooksAndTopicArgument(t *testing.T) {
	obs := &countingHooks{published: map[string]int{}}
	p, err := transport.NewGoChannel(context.Background(), transport.Options{Hooks: obs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if err := p.Ready(); err != nil {
		t.Errorf("Ready = %v, want nil", err)
	}
	// Without Options.Topics the Subscribe argument is the pattern.
	ch, err := p.Subscriber.Subscribe(context.Background(), "Metrics.*")
	if err != nil {
		t.Fatal(err)
	}
	a := message.NewMessage("1", []byte("a"))
	a.Metadata.Set(codec.KeyTopic, "Metrics.app1")
	b := message.NewMessage("2", []byte("b")) // no KeyTopic: the Publish topic
	skipped := message.NewMessage("3", []byte("c"))
	skipped.Metadata.Set(codec.KeyTopic, "Other.app1")
	done := make(chan error, 1)
	go func() { done <- p.Publisher.Publish("Metrics.app2", a, skipped, b) }()

	for _, want := range []string{"Metrics.app1", "Metrics.app2"} {
		select {
		case m := <-ch:
			m.Ack()
			if got := m.Metadata.Get(codec.KeyTopic); got != want {
				t.Errorf("topic = %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no message for %s", want)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if a.Metadata.Get(codec.KeyTopic) != "Metrics.app1" || b.Metadata.Get(codec.KeyTopic) != "" {
		t.Error("Publish modified the caller's messages")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := map[string]int{"Metrics.app1": 1, "Metrics.app2": 1, "Other.app1": 1}
	for k, v := range want {
		if obs.published[k] != v {
			t.Errorf("Published(%q) = %d, want %d (all: %v)", k, obs.published[k], v, obs.published)
		}
	}
}

func TestGoChannelSubscribeNeedsATopic(t *testing.T) {
	p, err := transport.NewGoChannel(context.Background(), transport.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	if _, err := p.Subscriber.Subscribe(context.Background(), ""); err == nil {
		t.Error("Subscribe(\"\") with no Topics: want an error")
	}
}

// TestGoChannelPairHoldsNothingBack: a transport without an outage buffer
// still fills Pair.Drain and Pair.Shutdown, with the documented zero
// behaviour (nil at once), so the app calls them without type assertions.
func TestGoChannelPairHoldsNothingBack(t *testing.T) {
	for _, receiveOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("receiveOnly=%v", receiveOnly), func(t *testing.T) {
			p, err := transport.NewGoChannel(context.Background(), transport.Options{ReceiveOnly: receiveOnly}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			if p.Drain == nil || p.Shutdown == nil {
				t.Fatalf("Drain or Shutdown is nil: %+v", p)
			}
			if err := p.Drain(context.Background(), time.Second); err != nil {
				t.Errorf("Drain: %v", err)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
	}
}
