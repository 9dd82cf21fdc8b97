package transport

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// waitLimit only keeps a broken test from hanging; no test asserts timing.
const waitLimit = 60 * time.Second

// recHooks records what the publisher reports.
type recHooks struct {
	mu         sync.Mutex
	published  map[string]int
	failed     map[string]int
	unroutable map[string]int
	dropped    int
	droppedBy  map[string]int
	ups, downs int
}

func newRecHooks() *recHooks {
	return &recHooks{published: map[string]int{}, failed: map[string]int{}, unroutable: map[string]int{}, droppedBy: map[string]int{}}
}

func (o *recHooks) Published(topic string, n int) { o.do(func() { o.published[topic] += n }) }
func (o *recHooks) PublishFailed(reason string)   { o.do(func() { o.failed[reason]++ }) }
func (o *recHooks) PublishDuration(time.Duration) {}
func (o *recHooks) Dropped(n int, reason string) {
	o.do(func() { o.dropped += n; o.droppedBy[reason] += n })
}
func (o *recHooks) Unroutable(topic string) { o.do(func() { o.unroutable[topic]++ }) }
func (o *recHooks) Connection(up bool) {
	o.do(func() {
		if up {
			o.ups++
		} else {
			o.downs++
		}
	})
}

func (o *recHooks) do(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f()
}

// testDialer lets a test refuse reconnects (an outage) or freeze the
// traffic of the connections it made (a hung broker).
type testDialer struct {
	refuse atomic.Bool
	proxy  *brokertest.Proxy
}

func (d *testDialer) dial(network, addr string) (net.Conn, error) {
	if d.refuse.Load() {
		return nil, errors.New("test: broker unreachable")
	}
	if d.proxy != nil {
		addr = d.proxy.Addr()
	}
	c, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return c, c.SetDeadline(time.Now().Add(10 * time.Second)) // handshake; amqp091 clears it
}

type testEnv struct {
	uri    string
	conn   *wamqp.ConnectionWrapper
	dialer *testDialer
	obs    *recHooks
	logs   *syncbuf.Buffer
	pub    *amqpPublisher
}

// newTestEnv connects a ConnectionWrapper (reconnect backoff 300ms, through
// a testDialer) and builds a publisher on it with cfg changed by mod.
func newTestEnv(t *testing.T, proxy *brokertest.Proxy, mod func(*AMQPConfig)) *testEnv {
	t.Helper()
	e := &testEnv{uri: brokertest.AMQPURI(t), dialer: &testDialer{proxy: proxy}, obs: newRecHooks(), logs: &syncbuf.Buffer{}}
	watch := newConnWatch(nil)
	conn, err := wamqp.NewConnection(wamqp.ConnectionConfig{
		AmqpURI:    e.uri,
		AmqpConfig: &amqp091.Config{Dial: e.dialer.dial, Heartbeat: 10 * time.Second, Locale: "en_US"},
		Reconnect: &wamqp.ReconnectConfig{
			BackoffInitialInterval: 300 * time.Millisecond, BackoffMultiplier: 1,
			BackoffMaxInterval: 300 * time.Millisecond,
		},
	}, watch)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e.conn = conn
	cfg := DefaultAMQPConfig(e.uri)
	cfg.PublishTimeout = 20 * time.Second
	cfg.Hooks = e.obs
	if mod != nil {
		mod(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.pub, err = newAMQPPublisher(conn, cfg, logger, withConnWatch(watch))
	if err != nil {
		t.Fatalf("newAMQPPublisher: %v", err)
	}
	t.Cleanup(func() { _ = e.pub.Close() })
	return e
}

// dropConnection closes the publisher's current connection from the broker
// side of the client, as a network cut would; the wrapper reconnects.
func (e *testEnv) dropConnection(t *testing.T) {
	t.Helper()
	waitFor(t, "publisher connected", func() bool { return e.pub.live() != nil })
	s := e.pub.live()
	_ = s.conn.Close()
	waitFor(t, "publisher sees the drop", func() bool { return !s.alive() })
}

// waitFor polls cond until it holds; it fails the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// uniqueApp returns a deployment name no other test uses.
func uniqueApp(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// testQueue is an exclusive queue of a plain amqp091-go client.
type testQueue struct {
	name string
	ch   *amqp091.Channel
	ds   <-chan amqp091.Delivery // nil unless consuming
}

// bindQueue declares the is exchange with is-wire's exact flags (which
// fails with 406 if it exists otherwise) and an exclusive queue bound to
// it with keys, using a plain amqp091-go client. consume false leaves the
// queue without consumer (count it with depth).
func bindQueue(t *testing.T, uri, exchange string, consume bool, keys ...string) testQueue {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	if err := ch.ExchangeDeclarePassive(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatalf("exchange %q does not exist: %v", exchange, err)
	}
	if err := ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil); err != nil {
		t.Fatalf("re-declare exchange %q with is-wire's flags: %v", exchange, err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := ch.QueueBind(q.Name, k, exchange, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	tq := testQueue{name: q.Name, ch: ch}
	if !consume {
		return tq
	}
	if err := ch.Qos(5000, 0, false); err != nil {
		t.Fatal(err)
	}
	if tq.ds, err = ch.Consume(q.Name, "", true, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	return tq
}

// depth counts the messages waiting in the queue.
func (q testQueue) depth(t *testing.T) int {
	t.Helper()
	d, err := q.ch.QueueDeclarePassive(q.name, false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d.Messages
}

// receiveN takes n deliveries, failing when they do not come.
func receiveN(t *testing.T, ds <-chan amqp091.Delivery, n int) []amqp091.Delivery {
	t.Helper()
	out := make([]amqp091.Delivery, 0, n)
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for len(out) < n {
		select {
		case d, ok := <-ds:
			if !ok {
				t.Fatalf("consumer closed after %d of %d deliveries", len(out), n)
			}
			out = append(out, d)
		case <-timer.C:
			t.Fatalf("got %d of %d deliveries", len(out), n)
		}
	}
	return out
}

// numbered returns n wire messages for app with bodies "from".."from+n-1".
func numbered(app string, from, n int) []*message.Message {
	msgs := make([]*message.Message, n)
	for i := range msgs {
		msgs[i] = wireMsg(codec.Topic(app), map[string]string{"cpu": "1"}, strconv.Itoa(from+i))
	}
	return msgs
}

// bodies returns the bodies of ds as ints.
func bodies(t *testing.T, ds []amqp091.Delivery) []int {
	t.Helper()
	out := make([]int, len(ds))
	for i, d := range ds {
		n, err := strconv.Atoi(string(d.Body))
		if err != nil {
			t.Fatalf("body %q: %v", d.Body, err)
		}
		out[i] = n
	}
	return out
}

func TestPublishWireFields(t *testing.T) {
	for _, confirm := range []bool{true, false} {
		t.Run(fmt.Sprintf("confirm=%v", confirm), func(t *testing.T) {
			e := newTestEnv(t, nil, func(c *AMQPConfig) { c.Confirm = confirm })
			app1, app2 := uniqueApp(t), uniqueApp(t)
			ds := bindQueue(t, e.uri, "is", true, codec.Topic(app1), codec.Topic(app2)).ds
			m1 := wireMsg(codec.Topic(app1), map[string]string{"cpu": "0.5", "memory": "512"}, `{"app":"`+app1+`"}`)
			m2 := wireMsg(codec.Topic(app2), map[string]string{"gpu": "1"}, "")
			m2.Metadata[codec.KeyCorrelationID] = "1A"
			delete(m2.Metadata, codec.KeyTopic) // goes to the topic argument
			delete(m2.Metadata, codec.KeyContentType)
			m2.Metadata[codec.KeyContentEncoding] = "utf-8"
			if err := e.pub.Publish(codec.Topic(app2), m1, m2); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			got := receiveN(t, ds, 2)
			want := []struct {
				key, replyTo, corr, ct, ce, body string
				headers                          amqp091.Table
			}{
				{codec.Topic(app1), app1, "9F3A0C11D2E4B577", codec.ContentTypeJSON, "", `{"app":"` + app1 + `"}`, amqp091.Table{"cpu": "0.5", "memory": "512"}},
				{codec.Topic(app2), app2, "1A", "", "utf-8", "", amqp091.Table{"gpu": "1"}},
			}
			for i, d := range got {
				w := want[i]
				if d.Exchange != "is" || d.RoutingKey != w.key || d.ReplyTo != w.replyTo || d.CorrelationId != w.corr ||
					d.ContentType != w.ct || d.ContentEncoding != w.ce || string(d.Body) != w.body {
					t.Errorf("delivery %d: exchange %q key %q reply_to %q corr %q ct %q ce %q body %q; want %+v",
						i, d.Exchange, d.RoutingKey, d.ReplyTo, d.CorrelationId, d.ContentType, d.ContentEncoding, d.Body, w)
				}
				if d.Timestamp.Unix() != 1764091800123 {
					t.Errorf("delivery %d: timestamp %d on the wire, want the ms 1764091800123", i, d.Timestamp.Unix())
				}
				if !maps.EqualFunc(d.Headers, w.headers, func(a, b any) bool { return a == b }) {
					t.Errorf("delivery %d: headers %#v, want exactly %#v", i, d.Headers, w.headers)
				}
				if d.MessageId != "" || d.DeliveryMode != 0 || d.Priority != 0 || d.Type != "" || d.AppId != "" || d.Expiration != "" || d.UserId != "" {
					t.Errorf("delivery %d sets a property is-wire never sets: %+v", i, d)
				}
			}
			e.obs.do(func() {
				if e.obs.published[codec.Topic(app1)] != 1 || e.obs.published[codec.Topic(app2)] != 1 {
					t.Errorf("observer published = %v", e.obs.published)
				}
			})
		})
	}
}

func TestPublishOrder(t *testing.T) {
	for _, confirm := range []bool{true, false} {
		t.Run(fmt.Sprintf("confirm=%v", confirm), func(t *testing.T) {
			e := newTestEnv(t, nil, func(c *AMQPConfig) { c.Confirm = confirm })
			app := uniqueApp(t)
			ds := bindQueue(t, e.uri, "is", true, codec.Topic(app)).ds
			if err := e.pub.Publish("unused", numbered(app, 0, 10000)...); err != nil {
				t.Fatalf("Publish 10000: %v", err)
			}
			for i := range 20 {
				if err := e.pub.Publish("unused", numbered(app, 10000+i*100, 100)...); err != nil {
					t.Fatalf("Publish call %d: %v", i, err)
				}
			}
			for i, n := range bodies(t, receiveN(t, ds, 12000)) {
				if n != i {
					t.Fatalf("delivery %d has body %d: out of order", i, n)
				}
			}
		})
	}
}

func TestPublishUnroutable(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	app := uniqueApp(t) // nothing bound
	for range 3 {
		if err := e.pub.Publish(codec.Topic(app), numbered(app, 0, 2)...); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	// At least 6: a confirm that is slow under load makes the publisher
	// send again (at-least-once), and the broker returns the copy too.
	waitFor(t, "6 returns counted", func() bool {
		var n int
		e.obs.do(func() { n = e.obs.unroutable[codec.Topic(app)] })
		return n >= 6
	})
	if n := strings.Count(e.logs.String(), "level=WARN msg=\"message unroutable"); n != 1 {
		t.Errorf("%d unroutable warnings for one routing key, want 1:\n%s", n, e.logs)
	}
}

func TestPublishBadMessageSendsNothing(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", false, codec.Topic(app))
	msgs := numbered(app, 0, 3)
	msgs[2].Metadata[codec.KeyContentType] = "text/plain"
	err := e.pub.Publish(codec.Topic(app), msgs...)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "text/plain") {
		t.Fatalf("Publish = %v, want a permanent content type error", err)
	}
	if err := e.pub.Publish(codec.Topic(app), numbered(app, 3, 1)...); err != nil {
		t.Fatalf("Publish after: %v", err)
	}
	if n := q.depth(t); n != 1 {
		t.Errorf("queue holds %d messages, want only the 1 good one", n)
	}
}

func TestPublishExchangeInequivalent(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	name := "metricsender-test-" + uniqueApp(t)
	ch := brokertest.Channel(t, uri)
	if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.ExchangeDelete(name, false, false) })

	wconn, err := wamqp.NewConnection(wamqp.ConnectionConfig{AmqpURI: uri}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wconn.Close() })
	cfg := DefaultAMQPConfig(uri)
	cfg.Exchange = name
	p, err := newAMQPPublisher(wconn, cfg, nil)
	if err == nil {
		_ = p.Close()
		t.Fatal("newAMQPPublisher succeeded on an exchange declared durable")
	}
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), `declare exchange "`+name+`": inequivalent arguments`) {
		t.Fatalf("err = %v, want a permanent inequivalent-arguments error naming the exchange", err)
	}
}

func TestPublishCloseIsIdempotent(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	for i := range 3 {
		if err := e.pub.Close(); err != nil {
			t.Fatalf("Close %d: %v", i, err)
		}
	}
	if err := e.pub.Publish("x", numbered("x", 0, 1)...); !errors.Is(err, errPublisherClosed) {
		t.Fatalf("Publish after Close = %v, want errPublisherClosed", err)
	}
}

// TestPublishNacked: a queue that rejects what overflows it makes the
// broker nack; Publish retries, counts the nacks and gives up with an
// error after PublishTimeout.
func TestPublishNacked(t *testing.T) {
	e := newTestEnv(t, nil, func(c *AMQPConfig) { c.PublishTimeout = 2 * time.Second })
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", false)
	full, err := q.ch.QueueDeclare("", false, true, true, false,
		amqp091.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.ch.QueueBind(full.Name, codec.Topic(app), "is", false, nil); err != nil {
		t.Fatal(err)
	}
	err = e.pub.Publish(codec.Topic(app), numbered(app, 0, 3)...)
	if !errors.Is(err, errPublishTimeout) {
		t.Fatalf("Publish = %v, want a timeout after the nacks", err)
	}
	e.obs.do(func() {
		if e.obs.failed["nack"] == 0 || e.obs.published[codec.Topic(app)] != 1 {
			t.Errorf("failed %v published %v, want nacks and 1 confirmed", e.obs.failed, e.obs.published)
		}
	})
}

// redeclareDurable deletes exchange name and declares it again durable:
// flags other than the publisher's, which its next declaration refuses.
func redeclareDurable(t *testing.T, ch *amqp091.Channel, name string) {
	t.Helper()
	if err := ch.ExchangeDelete(name, false, false); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(name, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
}

// ownExchangeDown is a test env publishing to an exchange of its own
// (name), bound to q, whose broker connection is dropped and whose redials
// are refused until the test lets them through.
func ownExchangeDown(t *testing.T) (e *testEnv, q testQueue, name string) {
	t.Helper()
	name = "metricsender-test-" + uniqueApp(t)
	e = newTestEnv(t, nil, func(c *AMQPConfig) { c.Exchange = name })
	q = bindQueue(t, e.uri, name, false)
	t.Cleanup(func() { _ = q.ch.ExchangeDelete(name, false, false) })
	e.dialer.refuse.Store(true)
	e.dropConnection(t)
	return e, q, name
}

// TestPublishExchangeChangedWhileDown: when the exchange comes back with
// other flags after an outage, Publish reports the permanent error.
func TestPublishExchangeChangedWhileDown(t *testing.T) {
	e, q, name := ownExchangeDown(t)
	redeclareDurable(t, q.ch, name)
	e.dialer.refuse.Store(false)
	var err error
	waitFor(t, "Publish reports the refused declaration", func() bool {
		err = e.pub.Publish("Metrics.x", numbered("x", 0, 1)...)
		return err != nil
	})
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "inequivalent") {
		t.Errorf("Publish = %v, want the permanent 406", err)
	}
}
