package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/transport"
)

// A receive-only pair has no publisher, and still receives what others
// publish.
func TestReceiveOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		uri  func(testing.TB) string // nil: in-process
	}{
		{"gochannel", nil},
		{"amqp", brokertest.AMQPURI},
		{"nats", brokertest.NATSURI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			topic := uniqueName(t, "Metrics") + ".app"
			opts := transport.Options{Topics: []string{topic}, ReceiveOnly: true}
			if tc.uri != nil {
				opts.URI = tc.uri(t)
			}
			p, err := transport.New(ctx, tc.name, opts, nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { _ = p.Close() })
			if p.Publisher != nil {
				t.Fatalf("receive-only pair has a publisher: %T", p.Publisher)
			}
			if tc.uri == nil {
				return // no one else can publish into an in-process pair
			}
			ch := subscribe(t, p, "")
			other, err := transport.New(ctx, tc.name, transport.Options{URI: opts.URI, Confirm: true}, nil)
			if err != nil {
				t.Fatalf("New (publisher): %v", err)
			}
			t.Cleanup(func() { _ = other.Close() })
			// Core NATS keeps nothing for a subscription the server has
			// not registered yet: publish until one arrives.
			for {
				m := message.NewMessage("m", []byte("from another pair"))
				m.Metadata.Set(codec.KeyTopic, topic)
				if err := other.Publisher.Publish(topic, m); err != nil {
					t.Fatalf("Publish: %v", err)
				}
				select {
				case got := <-ch:
					got.Ack()
					if string(got.Payload) != "from another pair" {
						t.Fatalf("received %q", got.Payload)
					}
					return
				case <-time.After(200 * time.Millisecond):
				case <-ctx.Done():
					t.Fatal("nothing received")
				}
			}
		})
	}
}
