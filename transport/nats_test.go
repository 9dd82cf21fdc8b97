package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/transport"
	"github.com/labsea/metricsender/transport/transporttest"
)

func TestNATSSuite(t *testing.T) {
	uri := brokertest.NATSURI(t)
	runSuiteWithCut(t, transporttest.Features{Ordered: true, HashMatchesZeroWords: true},
		func(topics []string) (transport.Pair, func() error, error) {
			cfg := transport.DefaultNATSConfig(uri)
			cfg.Topics = topics
			return transport.NewNATSWithCut(context.Background(), cfg, nil)
		})
}

// TestNATSWire reads what the nats transport sends with a plain nats.go
// subscriber: subject, body and one header per metadata key.
func TestNATSWire(t *testing.T) {
	uri := brokertest.NATSURI(t)
	topic := uniqueName(t, "Metrics") + ".app1"
	plain, err := nats.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Close)
	sub, err := plain.SubscribeSync(topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Flush(); err != nil {
		t.Fatal(err)
	}

	p, err := transport.NewNATS(context.Background(), transport.Options{URI: uri, Confirm: true}, nil)
	if err != nil {
		t.Fatalf("NewNATS: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	m := message.NewMessage("x", []byte(`{"app":"app1"}`))
	m.Metadata.Set(codec.KeyTopic, topic)
	m.Metadata.Set(codec.KeyReplyTo, "app1")
	m.Metadata.Set(codec.KeyCorrelationID, "9F3A0C11D2E4B577")
	m.Metadata.Set(codec.KeyTimestamp, "1795627800123")
	m.Metadata.Set(codec.KeyContentType, codec.ContentTypeJSON)
	m.Metadata.Set(codec.MetricPrefix+"cpu", "0.5")
	m.Metadata.Set(codec.KeyDecodeError, "never sent")
	if err := p.Publisher.Publish("ignored", m); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("plain subscriber: %v", err)
	}
	if got.Subject != topic || string(got.Data) != `{"app":"app1"}` {
		t.Errorf("got subject %q body %q", got.Subject, got.Data)
	}
	want := map[string]string{
		"iswire.reply_to": "app1", "iswire.correlation_id": "9F3A0C11D2E4B577",
		"iswire.timestamp_ms": "1795627800123", "iswire.content_type": "application/json", "metric.cpu": "0.5",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if len(got.Header) != len(want) {
		t.Errorf("headers %v, want exactly %v", got.Header, want)
	}
}

func TestNATSStartupAndOptions(t *testing.T) {
	t.Run("gives up after ConnectTimeout, password masked", func(t *testing.T) {
		addr := brokertest.FreeAddr(t)
		var logs logBuffer
		_, err := transport.NewNATS(context.Background(),
			transport.Options{URI: "nats://u:s3cret@" + addr, ConnectTimeout: 1500 * time.Millisecond}, logs.logger())
		if err == nil || !strings.Contains(err.Error(), "gave up") {
			t.Fatalf("NewNATS on a closed port = %v, want it to give up", err)
		}
		if strings.Contains(err.Error()+logs.String(), "s3cret") {
			t.Errorf("password leaked:\n%v\n%s", err, logs.String())
		}
	})
	t.Run("--queue is refused", func(t *testing.T) {
		_, err := transport.NewNATS(context.Background(), transport.Options{URI: transport.DefaultNATSURI, Queue: "q"}, nil)
		if err == nil || !strings.Contains(err.Error(), "JetStream") {
			t.Errorf("NewNATS with Queue = %v, want a JetStream error", err)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		cfg := transport.DefaultNATSConfig("amqp://h/")
		cfg.Topics = []string{"a.#.b", "a..b"}
		err := cfg.Validate()
		for _, w := range []string{"URI: amqp://h/", `Topics[0]: "a.#.b"`, `Topics[1]: "a..b"`} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate() = %v, want %q", err, w)
			}
		}
	})
	t.Run("a list of servers", func(t *testing.T) {
		uri := brokertest.NATSURI(t)
		list := "nats://127.0.0.1:1," + uri // the client tries the next server itself
		if err := transport.DefaultNATSConfig(list).Validate(); err != nil {
			t.Fatalf("Validate(%s) = %v", list, err)
		}
		if err := transport.DefaultNATSConfig("nats://h1:4222,amqp://h2/").Validate(); err == nil || !strings.Contains(err.Error(), "amqp://h2/") {
			t.Errorf("Validate of a list with an amqp URI = %v, want an error naming it", err)
		}
		p, err := transport.NewNATS(context.Background(), transport.Options{URI: list, ConnectTimeout: 20 * time.Second}, nil)
		if err != nil {
			t.Fatalf("NewNATS(%s): %v", list, err)
		}
		_ = p.Close()
	})
	t.Run("ctx cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := transport.NewNATS(ctx, transport.Options{URI: "nats://127.0.0.1:1"}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("NewNATS with a done ctx = %v, want context.Canceled", err)
		}
	})
}
