package brokertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"amqp://guest:s3cret@localhost:5672/", "amqp://guest:xxxxx@localhost:5672/"},
		{"amqp://localhost:5672/", "amqp://localhost:5672/"},
		{"nats://u:s3cret@127.0.0.1:4222", "nats://u:xxxxx@127.0.0.1:4222"},
		{"amqp://u:s3cret@host:port/", "(unparsable URI)"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redact(tt.in); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestQueueHelpers publishes into a fresh queue, counts it, consumes it
// and deletes it, all with the helpers.
func TestQueueHelpers(t *testing.T) {
	uri := AMQPURI(t)
	queue := fmt.Sprintf("metricsender-test-brokertest-%d", time.Now().UnixNano())
	DeleteQueueAtCleanup(t, uri, queue)
	DeleteQueueAtCleanup(t, uri, queue+"-never-declared") // no queue: no failure
	ch := Channel(t, uri)
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	// The default exchange routes by queue name.
	Publish(t, uri, "", queue, amqp091.Publishing{Body: []byte("one")})
	Publish(t, uri, "", queue, amqp091.Publishing{Body: []byte("two")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for QueueMessages(t, uri, queue) < 2 && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond) // the count lags the publish a little
	}
	if n := QueueMessages(t, uri, queue); n != 2 {
		t.Fatalf("QueueMessages = %d, want 2", n)
	}
	if _, err := ch.Consume(queue, "", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	WaitConsumer(t, ctx, uri, queue)
}

// TestProxyHold: a held proxy refuses new connections and leaves open ones
// alone; released, it forwards again.
func TestProxyHold(t *testing.T) {
	uri := AMQPURI(t)
	p, via := NewAMQPProxy(t, uri)
	open := Dial(t, via)
	p.Hold(true)
	if conn, err := amqp091.Dial(via); err == nil {
		_ = conn.Close()
		t.Fatal("a held proxy let a new connection through")
	}
	if _, err := open.Channel(); err != nil {
		t.Fatalf("a connection opened before the hold broke: %v", err)
	}
	p.Hold(false)
	Dial(t, via)
}
