package transport_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/transport"
	"github.com/labsea/metricsender/transport/transporttest"
)

func TestAMQPExclusiveQueue(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	topic := uniqueName(t, "Metrics") + ".app1"
	p := openAMQP(t, testAMQPConfig(uri, []string{topic}))
	ch := subscribe(t, p, topic)
	queue := transport.SubscriberQueue(p.Subscriber)
	host, _ := os.Hostname()
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(host) + `/[0-9A-F]{16}$`).MatchString(queue) {
		t.Errorf("queue name %q, want %s/<16 upper hex> like is-wire", queue, host)
	}
	roundTrip(t, p, ch, topic, "hello")

	plain := brokertest.Dial(t, uri)
	// Another connection may not touch an exclusive queue: 405 RESOURCE_LOCKED.
	if err := passiveDeclare(t, plain, queue); amqpCode(err) != amqp091.ResourceLocked {
		t.Errorf("passive declare of %q from another connection = %v, want 405 (exclusive)", queue, err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := passiveDeclare(t, plain, queue); amqpCode(err) != amqp091.NotFound {
		t.Errorf("after Close, passive declare of %q = %v, want 404 (auto-deleted)", queue, err)
	}
}

func TestAMQPNamedQueue(t *testing.T) {
	uri, w, cfg := namedQueueConfig(t)
	queue := cfg.Queue

	p := openAMQP(t, cfg)
	ch := subscribe(t, p, "")
	roundTrip(t, p, ch, w+".a", "first")
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if info := listQueue(t, queue); info != nil {
		if info.Type != "quorum" || !info.Durable {
			t.Errorf("queue %q: type %q durable %v, want a durable quorum queue", queue, info.Type, info.Durable)
		}
		if limit, _ := info.Arguments["x-delivery-limit"].(float64); limit != 5 {
			t.Errorf("queue %q: x-delivery-limit %v, want 5 (arguments %v)", queue, info.Arguments["x-delivery-limit"], info.Arguments)
		}
	}

	// The queue outlives the receiver: what is published meanwhile waits.
	pch := brokertest.Channel(t, uri)
	if err := pch.PublishWithContext(context.Background(), "is", w+".b", false, false,
		amqp091.Publishing{Body: []byte("while away"), Headers: amqp091.Table{}}); err != nil {
		t.Fatal(err)
	}
	p2 := openAMQP(t, cfg)
	ch2, err := p2.Subscriber.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatalf("Subscribe on the existing queue: %v", err)
	}
	expect(t, ch2, "while away")
}

func TestAMQPExistingClassicQueue(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	w := uniqueName(t, "Metrics")
	queue := uniqueName(t, "metricsender-test-classic-")
	brokertest.DeleteQueueAtCleanup(t, uri, queue)
	pch := brokertest.Channel(t, uri)
	// A classic queue with an argument we would not set: it must be
	// consumed as it is, not redeclared (which would fail with 406).
	if _, err := pch.QueueDeclare(queue, true, false, false, false, amqp091.Table{"x-max-length": int32(1000)}); err != nil {
		t.Fatalf("declare classic queue: %v", err)
	}

	cfg := testAMQPConfig(uri, []string{w + ".*"})
	cfg.Queue = queue
	p := openAMQP(t, cfg)
	ch := subscribe(t, p, "")
	roundTrip(t, p, ch, w+".a", "classic")
	if info := listQueue(t, queue); info != nil && info.Type != "classic" {
		t.Errorf("queue %q became %q, want it left classic", queue, info.Type)
	}
}

func TestAMQPExchangeWithOtherFlagsIsPermanent(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	exchange := uniqueName(t, "metricsender-test-durable-")
	pch := brokertest.Channel(t, uri)
	// durable=true: not how is-wire declares it.
	if err := pch.ExchangeDeclare(exchange, "topic", true, true, false, false, nil); err != nil {
		t.Fatalf("declare exchange: %v", err)
	}
	t.Cleanup(func() { _ = pch.ExchangeDelete(exchange, false, false) })

	cfg := testAMQPConfig(uri, []string{"Metrics.*"})
	cfg.Exchange = exchange
	p, err := transport.NewAMQPConfig(context.Background(), cfg, nil)
	if err == nil {
		_ = p.Close()
		t.Fatal("NewAMQPConfig with an exchange declared with other flags: want an error")
	}
	if !errors.Is(err, transport.ErrPermanent) {
		t.Errorf("error %v does not wrap ErrPermanent", err)
	}
}

func TestAMQPNamedQueueLosesNothingOnCut(t *testing.T) {
	uri, w, cfg := namedQueueConfig(t)
	p, cut, err := transport.NewAMQPWithCut(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("NewAMQP: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ch := subscribe(t, p, "")
	roundTrip(t, p, ch, w+".a", "before")

	if err := cut(); err != nil {
		t.Fatalf("cut: %v", err)
	}
	// Published by someone else while our consumer is down: the durable
	// queue keeps it and the subscriber, back by itself, gets it.
	pch := brokertest.Channel(t, uri)
	for _, body := range []string{"during 1", "during 2"} {
		if err := pch.PublishWithContext(context.Background(), "is", w+".b", false, false,
			amqp091.Publishing{Body: []byte(body), Headers: amqp091.Table{}}); err != nil {
			t.Fatal(err)
		}
	}
	// "before" may come again: its ack can be lost in the cut
	// (at-least-once).
	var got []string
	for len(got) < 2 {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("subscription closed by the cut")
			}
			m.Ack()
			if b := string(m.Payload); b != "before" {
				got = append(got, b)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("received %v, want [during 1, during 2]", got)
		}
	}
	if got[0] != "during 1" || got[1] != "during 2" {
		t.Errorf("received %v, want [during 1, during 2]", got)
	}
}

// The subscriber writes acks on its own goroutine and folds runs of them
// into multiple acks: a multiple ack must never cover a message the
// handler has not settled, nacks must stay single, and what the handler
// settled must reach the broker before Close returns.
func TestAMQPSettlesExactlyWhatTheHandlerSettled(t *testing.T) {
	uri, w, cfg := namedQueueConfig(t)
	queue := cfg.Queue
	cfg.Prefetch = 50
	p := openAMQP(t, cfg)
	ch := subscribe(t, p, "")

	const total, handled = 300, 200
	pch := brokertest.Channel(t, uri)
	for i := range total {
		if err := pch.PublishWithContext(context.Background(), "is", w+".a", false, false,
			amqp091.Publishing{Body: []byte(strconv.Itoa(i)), Headers: amqp091.Table{}}); err != nil {
			t.Fatal(err)
		}
	}
	next := func() *message.Message {
		t.Helper()
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("subscription closed")
			}
			return m
		case <-time.After(30 * time.Second):
			t.Fatal("no delivery in 30 s")
		}
		return nil
	}
	for i := range handled {
		m := next()
		if got := string(m.Payload); got != strconv.Itoa(i) {
			t.Fatalf("delivery %d carries %q, want them in queue order", i, got)
		}
		if i%10 == 0 {
			m.Nack() // dropped, not requeued
		} else {
			m.Ack()
		}
	}
	held := next() // handed out, never settled: goes back at Close
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// A quorum queue applies settlements through its log, so its count may
	// lag them for a moment: wait for it (what is wrong stays wrong), then
	// say which messages came back.
	got := 0
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got = brokertest.QueueMessages(t, uri, queue); got == total-handled || time.Now().After(deadline) {
			break
		}
	}
	if got != total-handled {
		var extra []string
		for {
			d, ok, _ := pch.Get(queue, true)
			if !ok {
				break
			}
			if n, _ := strconv.Atoi(string(d.Body)); n < handled {
				extra = append(extra, string(d.Body))
			}
		}
		t.Logf("extra: %v", extra)
		t.Fatalf("10 s after Close the queue holds %d messages, want %d (the unsettled %s and the %d never taken)",
			got, total-handled, held.Payload, total-handled-1)
	}
	// Exactly the held one and those never taken (a quorum queue does not
	// promise their order after a requeue).
	left := map[string]bool{}
	for range total - handled {
		d, ok, err := pch.Get(queue, true)
		if err != nil || !ok {
			t.Fatalf("get from %s: ok=%v err=%v", queue, ok, err)
		}
		left[string(d.Body)] = true
	}
	for i := handled; i < total; i++ {
		if !left[strconv.Itoa(i)] {
			t.Errorf("message %d is not in the queue after Close (acked though never settled?)", i)
		}
	}
}

// namedQueueConfig is the config of a subscriber of a fresh named queue
// (deleted when the test ends) bound to w.*, w a fresh topic prefix.
func namedQueueConfig(t *testing.T) (uri, w string, cfg transport.AMQPConfig) {
	t.Helper()
	uri = brokertest.AMQPURI(t)
	w = uniqueName(t, "Metrics")
	cfg = testAMQPConfig(uri, []string{w + ".*"})
	cfg.Queue = uniqueName(t, "metricsender-test-")
	brokertest.DeleteQueueAtCleanup(t, uri, cfg.Queue)
	return uri, w, cfg
}

// Deleting the queue under a consumer makes the broker cancel it while the
// channel stays open: the subscriber declares the queue again and goes
// on, and Close still returns.
func TestAMQPResumesAfterQueueDeleted(t *testing.T) {
	uri, w, cfg := namedQueueConfig(t)
	p := openAMQP(t, cfg)
	ch := subscribe(t, p, "")
	roundTrip(t, p, ch, w+".a", "before")

	pch := brokertest.Channel(t, uri)
	if _, err := pch.QueueDelete(cfg.Queue, false, false, false); err != nil {
		t.Fatalf("delete queue: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	brokertest.WaitConsumer(t, ctx, uri, cfg.Queue) // declared and consumed again
	roundTrip(t, p, ch, w+".a", "after")

	transporttest.CloseWithin(t, p, 30*time.Second, "after the queue was deleted and declared again")
}

// When the broker's side of the socket goes away (the broker stops, or the
// network drops), amqp091-go reports a frame error, as it does for a frame
// it cannot parse. Only the latter loses a message: the subscriber must
// resume without handing out a decode error for the former.
func TestAMQPSocketLossIsNotABadMessage(t *testing.T) {
	uri, w, cfg := namedQueueConfig(t)
	proxy, proxied := brokertest.NewAMQPProxy(t, uri)
	cfg.URI = proxied
	p := openAMQP(t, cfg)
	ch := subscribe(t, p, "")
	roundTrip(t, p, ch, w+".a", "before")

	if n := proxy.Cut(); n == 0 {
		t.Fatal("no connection through the proxy to cut")
	}
	brokertest.Publish(t, uri, "is", w+".a", amqp091.Publishing{Body: []byte("after")})
	for {
		// "before" may come again: its ack can be lost with the socket.
		m := next(t, ch)
		if reason := m.Metadata.Get(codec.KeyDecodeError); reason != "" {
			t.Fatalf("the cut was handed out as a bad message: %s", reason)
		}
		if string(m.Payload) == "after" {
			break
		}
		if string(m.Payload) != "before" {
			t.Fatalf("received %q, want before or after", m.Payload)
		}
	}

	transporttest.CloseWithin(t, p, 30*time.Second, "after the socket was cut")
}
