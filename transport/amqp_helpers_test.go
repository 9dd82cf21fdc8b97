package transport_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/transport"
)

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

func openAMQP(t *testing.T, cfg transport.AMQPConfig) transport.Pair {
	t.Helper()
	p, err := transport.NewAMQPConfig(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("NewAMQPConfig: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// subscribe subscribes p to topic ("": the configured topics), failing the
// test when it cannot.
func subscribe(t *testing.T, p transport.Pair, topic string) <-chan *message.Message {
	t.Helper()
	ch, err := p.Subscriber.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return ch
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
	if got := next(t, ch); string(got.Payload) != body {
		t.Fatalf("received %q, want %q", got.Payload, body)
	}
}

// next receives one message and acks it, failing the test when none comes
// within 30s or the subscription closes.
func next(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case got, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		got.Ack()
		return got
	case <-time.After(30 * time.Second):
		t.Fatal("nothing received within 30s")
	}
	return nil
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
