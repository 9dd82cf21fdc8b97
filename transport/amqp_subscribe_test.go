package transport_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/transport"
)

// plainConn is a plain amqp091 connection, to look at the broker without
// our code in between.
func plainConn(t *testing.T, uri string) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.Dial(uri)
	if err != nil {
		t.Fatalf("plain dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// passiveDeclare returns the broker's answer to a passive declare of queue
// (nil: it exists and we may use it), on a throwaway channel.
func passiveDeclare(t *testing.T, c *amqp091.Connection, queue string) error {
	t.Helper()
	ch, err := c.Channel()
	if err != nil {
		t.Fatalf("plain channel: %v", err)
	}
	defer func() { _ = ch.Close() }()
	_, err = ch.QueueDeclarePassive(queue, false, false, false, false, nil)
	return err
}

func amqpCode(err error) int {
	var e *amqp091.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// deleteQueueAtCleanup deletes queue with a plain client when the test ends.
func deleteQueueAtCleanup(t *testing.T, uri, queue string) {
	t.Helper()
	t.Cleanup(func() {
		c, err := amqp091.Dial(uri)
		if err != nil {
			t.Errorf("cleanup: dial: %v", err)
			return
		}
		defer func() { _ = c.Close() }()
		ch, err := c.Channel()
		if err != nil {
			t.Errorf("cleanup: channel: %v", err)
			return
		}
		if _, err := ch.QueueDelete(queue, false, false, false); err != nil {
			t.Errorf("cleanup: delete queue %q: %v", queue, err)
		}
	})
}

func openAMQP(t *testing.T, cfg transport.AMQPConfig) transport.Pair {
	t.Helper()
	p, err := transport.NewAMQPConfig(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("NewAMQPConfig: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// roundTrip publishes one message on topic through p and receives it.
func roundTrip(t *testing.T, p transport.Pair, ch <-chan *message.Message, topic, body string) {
	t.Helper()
	m := message.NewMessage(body, []byte(body))
	m.Metadata.Set(codec.KeyTopic, topic)
	if err := p.Publisher.Publish(topic, m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	expect(t, ch, body)
}

func expect(t *testing.T, ch <-chan *message.Message, body string) {
	t.Helper()
	select {
	case got, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		got.Ack()
		if string(got.Payload) != body {
			t.Fatalf("received %q, want %q", got.Payload, body)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%q not received", body)
	}
}

// queueInfo is a row of rabbitmqctl list_queues.
type queueInfo struct {
	Name    string          `json:"name"`
	Type    string          `json:"type"`
	Durable bool            `json:"durable"`
	RawArgs json.RawMessage `json:"arguments"`
	// Arguments decoded from rabbitmqctl's [[key, type, value], ...].
	Arguments map[string]any `json:"-"`
}

// listQueue asks rabbitmqctl (read-only) for queue's type and arguments,
// which no AMQP method reports; nil when rabbitmqctl is not usable here.
func listQueue(t *testing.T, queue string) *queueInfo {
	t.Helper()
	if _, err := exec.LookPath("rabbitmqctl"); err != nil || os.Getenv("AMQP_URI") != "" {
		t.Log("rabbitmqctl unavailable or remote broker: queue type not checked")
		return nil
	}
	out, err := exec.Command("rabbitmqctl", "list_queues", "-q", "--formatter", "json",
		"name", "type", "durable", "arguments").Output()
	if err != nil {
		t.Logf("rabbitmqctl list_queues: %v: queue type not checked", err)
		return nil
	}
	var rows []queueInfo
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("rabbitmqctl output: %v\n%s", err, out)
	}
	for _, r := range rows {
		if r.Name != queue {
			continue
		}
		r.Arguments = map[string]any{}
		var pairs [][]any
		if err := json.Unmarshal(r.RawArgs, &pairs); err == nil {
			for _, kv := range pairs {
				if k, ok := kv[0].(string); ok && len(kv) >= 2 {
					r.Arguments[k] = kv[len(kv)-1]
				}
			}
		} else if err := json.Unmarshal(r.RawArgs, &r.Arguments); err != nil {
			t.Fatalf("rabbitmqctl arguments %s: %v", r.RawArgs, err)
		}
		return &r
	}
	t.Fatalf("queue %q not listed by rabbitmqctl", queue)
	return nil
}

func TestAMQPExclusiveQueue(t *testing.T) {
	uri := brokerURI(t)
	topic := uniqueName(t, "Metrics") + ".app1"
	p := openAMQP(t, testAMQPConfig(uri, []string{topic}))
	ch, err := p.Subscriber.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	queue := transport.SubscriberQueue(p.Subscriber)
	host, _ := os.Hostname()
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(host) + `/[0-9A-F]{16}$`).MatchString(queue) {
		t.Errorf("queue name %q, want %s/<16 upper hex> like is-wire", queue, host)
	}
	roundTrip(t, p, ch, topic, "hello")

	plain := plainConn(t, uri)
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
	uri := brokerURI(t)
	w := uniqueName(t, "Metrics")
	queue := uniqueName(t, "metricsender-test-")
	deleteQueueAtCleanup(t, uri, queue)
	cfg := testAMQPConfig(uri, []string{w + ".*"})
	cfg.Queue = queue

	p := openAMQP(t, cfg)
	ch, err := p.Subscriber.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
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
	plain := plainConn(t, uri)
	pch, err := plain.Channel()
	if err != nil {
		t.Fatal(err)
	}
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
	uri := brokerURI(t)
	w := uniqueName(t, "Metrics")
	queue := uniqueName(t, "metricsender-test-classic-")
	deleteQueueAtCleanup(t, uri, queue)
	plain := plainConn(t, uri)
	pch, err := plain.Channel()
	if err != nil {
		t.Fatal(err)
	}
	// A classic queue with an argument we would not set: it must be
	// consumed as it is, not redeclared (which would fail with 406).
	if _, err := pch.QueueDeclare(queue, true, false, false, false, amqp091.Table{"x-max-length": int32(1000)}); err != nil {
		t.Fatalf("declare classic queue: %v", err)
	}

	cfg := testAMQPConfig(uri, []string{w + ".*"})
	cfg.Queue = queue
	p := openAMQP(t, cfg)
	ch, err := p.Subscriber.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	roundTrip(t, p, ch, w+".a", "classic")
	if info := listQueue(t, queue); info != nil && info.Type != "classic" {
		t.Errorf("queue %q became %q, want it left classic", queue, info.Type)
	}
}

func TestAMQPExchangeWithOtherFlagsIsPermanent(t *testing.T) {
	uri := brokerURI(t)
	exchange := uniqueName(t, "metricsender-test-durable-")
	plain := plainConn(t, uri)
	pch, err := plain.Channel()
	if err != nil {
		t.Fatal(err)
	}
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
	uri := brokerURI(t)
	w := uniqueName(t, "Metrics")
	queue := uniqueName(t, "metricsender-test-")
	deleteQueueAtCleanup(t, uri, queue)
	cfg := testAMQPConfig(uri, []string{w + ".*"})
	cfg.Queue = queue
	p, cut, err := transport.NewAMQPWithCut(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("NewAMQP: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	ch, err := p.Subscriber.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	roundTrip(t, p, ch, w+".a", "before")

	if err := cut(); err != nil {
		t.Fatalf("cut: %v", err)
	}
	// Published by someone else while our consumer is down: the durable
	// queue keeps it and the subscriber, back by itself, gets it.
	plain := plainConn(t, uri)
	pch, err := plain.Channel()
	if err != nil {
		t.Fatal(err)
	}
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
