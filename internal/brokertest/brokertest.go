// Package brokertest holds helpers for tests against the real brokers of
// this machine (RabbitMQ and NATS): find the broker or skip loudly, and
// look at or feed a RabbitMQ with a plain amqp091-go client, so the wire is
// checked without metricsender's own code in between.
//
// It is a leaf package: the transport package's in-package tests import
// it, so it must not import transport (nor anything that does).
//
// Every helper takes the test, marks itself t.Helper and fails the test on
// an unexpected broker error; none keeps state between calls, but for
// Proxy, which stands between a client and the broker until the test ends.
package brokertest

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The brokers of this machine, as transport's defaults name them.
const (
	DefaultAMQPURI = "amqp://guest:guest@localhost:5672/"
	DefaultNATSURI = "nats://127.0.0.1:4222"
)

// AMQPURI returns the RabbitMQ to test against ($AMQP_URI, else
// DefaultAMQPURI) after dialling it once. Without a broker it skips the test
// with a message naming the URI (password masked), the error and how to
// start one, or fails it when METRICSENDER_REQUIRE_BROKER=1.
func AMQPURI(t testing.TB) string {
	t.Helper()
	uri := cmp.Or(os.Getenv("AMQP_URI"), DefaultAMQPURI)
	conn, err := amqp091.Dial(uri)
	if err != nil {
		missing(t, fmt.Sprintf("no RabbitMQ at %s: %v (start: rabbitmq-server -detached)", redact(uri), err))
	}
	_ = conn.Close()
	return uri
}

// NATSURI returns the NATS server to test against ($NATS_URI, else
// DefaultNATSURI) after connecting to it once. Without a server it skips or
// fails the test as AMQPURI does.
func NATSURI(t testing.TB) string {
	t.Helper()
	uri := cmp.Or(os.Getenv("NATS_URI"), DefaultNATSURI)
	nc, err := nats.Connect(uri, nats.Timeout(2*time.Second))
	if err != nil {
		missing(t, fmt.Sprintf("no NATS at %s: %v (start: nats-server -a 127.0.0.1 -p 4222 &)", redact(uri), err))
	}
	nc.Close()
	return uri
}

// missing skips the test loudly, or fails it when the broker is required.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("METRICSENDER_REQUIRE_BROKER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// redact masks the password of uri (net/url's "xxxxx"); a URI that does
// not parse is hidden whole rather than risk showing a password.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparsable URI)"
	}
	return u.Redacted()
}

// Dial opens a plain amqp091-go connection to uri, closed when the test
// ends; it fails the test when the dial fails.
func Dial(t testing.TB, uri string) *amqp091.Connection {
	t.Helper()
	conn, err := amqp091.Dial(uri)
	if err != nil {
		t.Fatalf("plain dial %s: %v", redact(uri), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// Channel opens a channel on a new Dial connection (closed when the test
// ends); it fails the test when either fails.
func Channel(t testing.TB, uri string) *amqp091.Channel {
	t.Helper()
	ch, err := Dial(t, uri).Channel()
	if err != nil {
		t.Fatalf("plain channel: %v", err)
	}
	return ch
}

// Publish publishes p once on exchange with routing key, on a connection
// of its own that it closes before returning, once the broker confirmed
// it; it fails the test on error.
func Publish(t testing.TB, uri, exchange, key string, p amqp091.Publishing) {
	t.Helper()
	conn, err := amqp091.Dial(uri)
	if err != nil {
		t.Fatalf("publish %s: dial: %v", key, err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("publish %s: channel: %v", key, err)
	}
	// Confirmed before it returns: the broker has routed the message, so
	// two Publish calls arrive in their order and none is lost with the
	// connection closed right after it.
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("publish %s: confirm mode: %v", key, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, false, false, p)
	if err != nil {
		t.Fatalf("publish %s: %v", key, err)
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		t.Fatalf("publish %s: not confirmed (acked %v): %v", key, ok, err)
	}
}

// QueueMessages returns the number of ready messages in the named queue;
// it fails the test when the queue cannot be inspected (no such queue).
func QueueMessages(t testing.TB, uri, queue string) int {
	t.Helper()
	q, err := inspect(uri, queue)
	if err != nil {
		t.Fatalf("inspect queue %s: %v", queue, err)
	}
	return q.Messages
}

// WaitConsumer polls (every 100 ms) until the named queue has a consumer:
// whoever consumes has declared and bound it, so what is published from
// now on reaches it. It fails the test when ctx ends first.
func WaitConsumer(t testing.TB, ctx context.Context, uri, queue string) {
	t.Helper()
	for ctx.Err() == nil {
		// No broker or no queue yet reads as no consumer yet.
		if q, err := inspect(uri, queue); err == nil && q.Consumers > 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("queue %s never got a consumer: %v", queue, context.Cause(ctx))
}

// inspect passively declares queue on a connection of its own, closed
// before it returns.
func inspect(uri, queue string) (amqp091.Queue, error) {
	conn, err := amqp091.Dial(uri)
	if err != nil {
		return amqp091.Queue{}, fmt.Errorf("dial: %w", err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return amqp091.Queue{}, fmt.Errorf("channel: %w", err)
	}
	return ch.QueueDeclarePassive(queue, true, false, false, false, nil)
}

// DeleteQueueAtCleanup deletes the named queue with a plain client when
// the test ends (a queue that is not there counts as deleted); a dial,
// channel or delete error then fails the test.
func DeleteQueueAtCleanup(t testing.TB, uri, queue string) {
	t.Helper()
	t.Cleanup(func() {
		conn, err := amqp091.Dial(uri)
		if err != nil {
			t.Errorf("cleanup: delete queue %q: dial: %v", queue, err)
			return
		}
		defer func() { _ = conn.Close() }()
		ch, err := conn.Channel()
		if err != nil {
			t.Errorf("cleanup: delete queue %q: channel: %v", queue, err)
			return
		}
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			t.Errorf("cleanup: delete queue %q: %v", queue, err)
		}
	})
}
