// Package transporttest is the suite every transport must pass: the
// transport.Pair contract checked the same way for gochannel (in unit
// tests), amqp and nats (against real brokers).
//
//	transporttest.Run(t, transporttest.Features{Ordered: true}, func(t *testing.T, topics []string) transport.Pair {
//		p, err := transport.NewGoChannel(t.Context(), transport.Options{Topics: topics}, nil)
//		...
//	})
//
// Every test uses topic words unique to the run, so several test processes
// may share one broker.
package transporttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/transport"
)

// Features says what a transport promises beyond the common contract.
type Features struct {
	// Ordered: messages for one topic from one publisher arrive in publish
	// order.
	Ordered bool
	// HashMatchesZeroWords: "a.#" matches "a", as in AMQP (a NATS
	// transport must subscribe "a" besides "a.>" for it).
	HashMatchesZeroWords bool
	// Cut, when set, drops the pair's broker connection from the client
	// side; the suite then checks that publish and subscribe recover.
	Cut func(t *testing.T, p transport.Pair)
}

// NewPair builds a fresh pair whose subscriber binds topics (the
// transport.Options.Topics). The suite closes it.
type NewPair func(t *testing.T, topics []string) transport.Pair

// waitLimit bounds every wait of the suite: it only turns a hang into a
// failure, it is not a speed requirement.
const waitLimit = 30 * time.Second

// Run runs the suite as subtests of t.
func Run(t *testing.T, f Features, newPair NewPair) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, f Features, newPair NewPair)
		skip bool
	}{
		{"RoundTrip", testRoundTrip, false},
		{"PerMessageTopic", testPerMessageTopic, false},
		{"Patterns", testPatterns, false},
		{"Feedback", testFeedback, false},
		{"Order", testOrder, !f.Ordered},
		{"CloseWhileSubscribed", testCloseWhileSubscribed, false},
		{"CloseIdempotent", testCloseIdempotent, false},
		{"SubscribeContextCancel", testSubscribeContextCancel, false},
		{"Reconnect", testReconnect, f.Cut == nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("not a feature of this transport")
			}
			tt.run(t, f, newPair)
		})
	}
}

// uniqueWord returns a topic word no other test run uses.
func uniqueWord(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// open builds a pair and closes it at the end of the test.
func open(t *testing.T, newPair NewPair, topics ...string) transport.Pair {
	t.Helper()
	p := newPair(t, topics)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := p.Ready(); err != nil {
		t.Fatalf("Ready on a fresh pair: %v", err)
	}
	return p
}

// subscribe subscribes with the pair's topics (topic is the Subscribe
// argument, used when the pair has none).
func subscribe(t *testing.T, p transport.Pair, topic string) <-chan *message.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := p.Subscriber.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", topic, err)
	}
	return ch
}

// publishAsync publishes in the background (gochannel blocks Publish
// until the subscriber acks) and reports the error on the returned channel.
func publishAsync(p transport.Pair, topic string, msgs ...*message.Message) <-chan error {
	done := make(chan error, 1)
	go func() { done <- p.Publisher.Publish(topic, msgs...) }()
	return done
}

func waitPublished(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Publish did not return within %s", waitLimit)
	}
}

// receive acks and returns n messages, failing if they do not come.
func receive(t *testing.T, ch <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	got := make([]*message.Message, 0, n)
	timeout := time.After(waitLimit)
	for len(got) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %d of %d messages", len(got), n)
			}
			m.Ack()
			got = append(got, m)
		case <-timeout:
			t.Fatalf("received %d of %d messages within %s: %v", len(got), n, waitLimit, topicsOf(got))
		}
	}
	return got
}

// wireMessage is a message in the codec's watermill form, addressed to
// topic through codec.KeyTopic when topic is not empty.
func wireMessage(topic, body string) *message.Message {
	m := message.NewMessage(fmt.Sprintf("id-%s", body), []byte(body))
	if topic != "" {
		m.Metadata.Set(codec.KeyTopic, topic)
	}
	return m
}

func topicsOf(ms []*message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Metadata.Get(codec.KeyTopic)
	}
	return out
}

func bodiesOf(ms []*message.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Payload)
	}
	return out
}

// CloseWithin closes p and fails the test when Close errs or takes longer
// than limit (when, appended to the message, says in what situation).
func CloseWithin(t *testing.T, p transport.Pair, limit time.Duration, when string) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(limit):
		t.Fatalf("Close blocked for %s %s", limit, when)
	}
}
