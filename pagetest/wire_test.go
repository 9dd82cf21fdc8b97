package pagetest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/wiretest"
)

// onWire is one Metrics message as a plain amqp091-go consumer read it.
type onWire struct {
	app     string
	seq     uint64
	headers map[string]string // every header, as the string is-wire sends
}

// wire is a plain amqp091-go consumer of Metrics.# on an exchange of the
// test's own: what send put on the wire, without metricsender's decoder.
type wire struct {
	mu   sync.Mutex
	msgs []onWire
	bad  []string // messages that are not is-wire
}

// exchangeFor is an exchange for t alone, deleted when t ends: another
// test's messages cannot reach its consumer nor its sender's feedback.
func exchangeFor(t *testing.T, uri string) string {
	t.Helper()
	name := fmt.Sprintf("pagetest-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
	admin := brokertest.Channel(t, uri)
	t.Cleanup(func() { _ = admin.ExchangeDelete(name, false, false) })
	return name
}

// consume binds an exclusive queue to exchange (declared with the is-wire
// flags) with Metrics.# and records every message from now on.
func consume(t *testing.T, uri, exchange string) *wire {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange %s with is-wire flags: %v", exchange, err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("declare the consumer's queue: %v", err)
	}
	if err := ch.QueueBind(q.Name, "Metrics.#", exchange, false, nil); err != nil {
		t.Fatalf("bind the consumer's queue: %v", err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	w := &wire{}
	go func() {
		for d := range deliveries {
			w.add(d)
		}
	}()
	return w
}

func (w *wire) add(d amqp.Delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	env, err := wiretest.DecodeEnvelope(d.Body)
	if err != nil {
		w.bad = append(w.bad, fmt.Sprintf("%s: %v: %s", d.RoutingKey, err, d.Body))
		return
	}
	m := onWire{app: d.ReplyTo, seq: env.Seq, headers: map[string]string{}}
	for k, v := range d.Headers {
		s, ok := v.(string)
		if !ok {
			w.bad = append(w.bad, fmt.Sprintf("%s: header %s = %#v, not a string", d.RoutingKey, k, v))
			continue
		}
		m.headers[k] = s
	}
	w.msgs = append(w.msgs, m)
}

// of returns app's messages so far, in arrival order.
func (w *wire) of(app string) []onWire {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []onWire
	for _, m := range w.msgs {
		if m.app == app {
			out = append(out, m)
		}
	}
	return out
}

// waitFor waits until app has at least n messages on the wire and returns
// them; s's exit fails the test at once.
func (w *wire) waitFor(t *testing.T, s *sender, app string, n int) []onWire {
	t.Helper()
	var got []onWire
	s.WaitOutput(t, fmt.Sprintf("%d messages of %s on the wire", n, app), hang, true, func(string) bool {
		got = w.of(app)
		return len(got) >= n
	})
	return got
}

// noneBad fails t when a message was not is-wire.
func (w *wire) noneBad(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bad {
		t.Errorf("a message on the wire is not is-wire: %s", b)
	}
}
