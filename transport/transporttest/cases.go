package transporttest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
)

// testRoundTrip: a message in wire form keeps its body and every codec
// metadata key, and arrives with its topic in codec.KeyTopic.
func testRoundTrip(t *testing.T, _ Features, newPair NewPair) {
	topic := uniqueWord(t, "Metrics") + ".app1"
	p := open(t, newPair, topic)
	ch := subscribe(t, p, topic)

	body := `{"app":"app1","metrics":{"cpu":"0.5","memory":"512"},"seq":17,"run":"6f1c2a9e","time":"2026-11-25T17:30:00.123Z"}`
	want := map[string]string{
		codec.KeyReplyTo:              "app1",
		codec.KeyCorrelationID:        "9F3A0C11D2E4B577",
		codec.KeyTimestamp:            "1795627800123",
		codec.KeyContentType:          codec.ContentTypeJSON,
		codec.MetricPrefix + "cpu":    "0.5",
		codec.MetricPrefix + "memory": "512",
		// A metric named like a property must not collide with it.
		codec.MetricPrefix + "reply_to": "not-the-app",
	}
	m := wireMessage(topic, body)
	for k, v := range want {
		m.Metadata.Set(k, v)
	}
	published := publishAsync(p, topic, m)
	got := receive(t, ch, 1)[0]
	waitPublished(t, published)

	if string(got.Payload) != body {
		t.Errorf("payload = %q, want %q", got.Payload, body)
	}
	if tp := got.Metadata.Get(codec.KeyTopic); tp != topic {
		t.Errorf("metadata %s = %q, want %q", codec.KeyTopic, tp, topic)
	}
	for k, v := range want {
		if g := got.Metadata.Get(k); g != v {
			t.Errorf("metadata %s = %q, want %q", k, g, v)
		}
	}
	for k := range got.Metadata {
		if _, ok := want[k]; !ok && strings.HasPrefix(k, codec.MetricPrefix) {
			t.Errorf("unexpected metric metadata %s = %q", k, got.Metadata.Get(k))
		}
	}
}

// testPerMessageTopic: one Publish call carries messages for several
// topics; codec.KeyTopic wins over the topic argument, which applies to
// messages without it.
func testPerMessageTopic(t *testing.T, f Features, newPair NewPair) {
	w := uniqueWord(t, "Metrics")
	p := open(t, newPair, w+".*")
	ch := subscribe(t, p, w+".*")

	msgs := []*message.Message{
		wireMessage(w+".a", "1"),
		wireMessage(w+".b", "2"),
		wireMessage(w+".c", "3"),
		wireMessage("", "4"), // goes to the Publish topic
	}
	published := publishAsync(p, w+".d", msgs...)
	got := receive(t, ch, len(msgs))
	waitPublished(t, published)

	want := []string{w + ".a=1", w + ".b=2", w + ".c=3", w + ".d=4"}
	pairs := make([]string, len(got))
	for i, m := range got {
		pairs[i] = m.Metadata.Get(codec.KeyTopic) + "=" + string(m.Payload)
	}
	if !f.Ordered {
		slices.Sort(pairs)
	}
	if !slices.Equal(pairs, want) {
		t.Errorf("received %v, want %v", pairs, want)
	}
}

// testPatterns: AMQP topic semantics, '*' one word, '#' zero or more,
// several patterns on one subscription.
func testPatterns(t *testing.T, f Features, newPair NewPair) {
	w, v, o := uniqueWord(t, "Metrics"), uniqueWord(t, "Other"), uniqueWord(t, "None")
	tests := []struct {
		name      string
		patterns  []string
		publish   []string // topics, in order
		want      []string
		zeroWords bool
	}{
		{"star is one word", []string{w + ".*"},
			[]string{w + ".a", v + ".a", w + ".a.b", w, w + ".z"},
			[]string{w + ".a", w + ".z"}, false},
		{"two patterns", []string{w + ".*", v + ".#"},
			[]string{w + ".a", v + ".x.y", o + ".a", v + ".q", w + ".end"},
			[]string{w + ".a", v + ".x.y", v + ".q", w + ".end"}, false},
		{"hash matches zero words", []string{v + ".#"},
			[]string{v, o, v + ".x", v + ".end"},
			[]string{v, v + ".x", v + ".end"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.zeroWords && !f.HashMatchesZeroWords {
				t.Skip("'#' needs at least one word on this transport")
			}
			p := open(t, newPair, tt.patterns...)
			ch := subscribe(t, p, tt.patterns[0])
			msgs := make([]*message.Message, len(tt.publish))
			for i, topic := range tt.publish {
				msgs[i] = wireMessage(topic, strconv.Itoa(i))
			}
			published := publishAsync(p, "", msgs...)
			got := topicsOf(receive(t, ch, len(tt.want)))
			waitPublished(t, published)
			// Compared as sets: order is the Order test's business, and a
			// transport may feed several patterns from separate streams.
			want := slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("patterns %v received %v, want %v", tt.patterns, got, want)
			}
		})
	}
}

// testOrder: 1000 messages for one topic arrive in order.
func testOrder(t *testing.T, _ Features, newPair NewPair) {
	const n, batch = 1000, 100
	topic := uniqueWord(t, "Metrics") + ".order"
	p := open(t, newPair, topic)
	ch := subscribe(t, p, topic)

	done := make(chan error, 1)
	go func() {
		for start := 0; start < n; start += batch {
			msgs := make([]*message.Message, batch)
			for i := range msgs {
				msgs[i] = wireMessage(topic, strconv.Itoa(start+i))
			}
			if err := p.Publisher.Publish(topic, msgs...); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	got := bodiesOf(receive(t, ch, n))
	waitPublished(t, done)
	for i, b := range got {
		if b != strconv.Itoa(i) {
			t.Fatalf("message %d has body %q: out of order (first 20: %v)", i, b, got[:min(20, len(got))])
		}
	}
}

// testCloseWhileSubscribed: Close returns while a consumer waits on an
// idle subscription, and the subscription channel gets closed.
func testCloseWhileSubscribed(t *testing.T, _ Features, newPair NewPair) {
	topic := uniqueWord(t, "Metrics") + ".idle"
	p := open(t, newPair, topic)
	ch := subscribe(t, p, topic)

	CloseWithin(t, p, waitLimit, "with a Subscribe pending")
	waitClosed(t, ch)
}

// testCloseIdempotent: Close twice is fine, and Publish after Close fails
// instead of hanging.
func testCloseIdempotent(t *testing.T, _ Features, newPair NewPair) {
	topic := uniqueWord(t, "Metrics") + ".close"
	p := open(t, newPair, topic)
	for i := range 2 {
		if err := p.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	select {
	case err := <-publishAsync(p, topic, wireMessage(topic, "late")):
		if err == nil {
			t.Error("Publish after Close returned nil, want an error")
		}
	case <-time.After(waitLimit):
		t.Fatalf("Publish after Close blocked for %s", waitLimit)
	}
}

// testSubscribeContextCancel: cancelling the Subscribe context closes the
// channel.
func testSubscribeContextCancel(t *testing.T, _ Features, newPair NewPair) {
	topic := uniqueWord(t, "Metrics") + ".ctx"
	p := open(t, newPair, topic)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := p.Subscriber.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	cancel()
	waitClosed(t, ch)
}

// testReconnect: after the connection is cut, the pair comes back by
// itself: a message published after the cut is received on the same
// subscription. Messages published during the outage may be lost.
func testReconnect(t *testing.T, f Features, newPair NewPair) {
	topic := uniqueWord(t, "Metrics") + ".reconnect"
	p := open(t, newPair, topic)
	ch := subscribe(t, p, topic)
	published := publishAsync(p, topic, wireMessage(topic, "before"))
	receive(t, ch, 1)
	waitPublished(t, published)

	f.Cut(t, p)

	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			// Errors are expected until the connection is back.
			_ = p.Publisher.Publish(topic, wireMessage(topic, "after-"+strconv.Itoa(i)))
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-stopped }()

	timeout := time.After(waitLimit)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatal("subscription closed by the cut, want it to resume")
			}
			m.Ack()
			if strings.HasPrefix(string(m.Payload), "after-") {
				if err := p.Ready(); err != nil {
					t.Errorf("Ready after reconnect: %v", err)
				}
				return
			}
		case <-timeout:
			t.Fatalf("nothing received within %s after the cut", waitLimit)
		}
	}
}

// waitClosed drains ch until it is closed.
func waitClosed(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return
			}
			m.Ack()
		case <-timeout:
			t.Fatalf("subscription channel still open after %s", waitLimit)
		}
	}
}

// testFeedback: a pair built without Options.Topics (as send builds it)
// binds the topic given to Subscribe, so the bus feedback source sees the
// Allocation messages and not the Metrics ones on the same connection;
// what arrives decodes with codec.DecodeTopic, reply_to or else the
// routing key after the prefix naming the app.
func testFeedback(t *testing.T, _ Features, newPair NewPair) {
	a, m := uniqueWord(t, "Allocation"), uniqueWord(t, "Metrics")
	p := open(t, newPair)
	ch := subscribe(t, p, a+".*")

	withReply := wireMessage(a+".web", "")
	withReply.Metadata.Set(codec.KeyReplyTo, "web")
	withReply.Metadata.Set(codec.KeyCorrelationID, "9F3A0C11D2E4B577")
	withReply.Metadata.Set(codec.MetricPrefix+"replicas", "4")
	withReply.Metadata.Set(codec.MetricPrefix+"cpu", "750m")
	byTopic := wireMessage(a+".api", "")
	byTopic.Metadata.Set(codec.MetricPrefix+"ready", "2")
	metrics := wireMessage(m+".web", "")
	metrics.Metadata.Set(codec.MetricPrefix+"cpu", "1")
	published := publishAsync(p, "", metrics, withReply, byTopic)
	got := receive(t, ch, 2)
	waitPublished(t, published)

	want := map[string]string{"web": "cpu=750m replicas=4 id=9F3A0C11D2E4B577", "api": "ready=2 id="}
	for _, msg := range got {
		rcv, err := codec.DecodeTopic(msg, a+".")
		if err != nil {
			t.Errorf("DecodeTopic(%s): %v", msg.Metadata.Get(codec.KeyTopic), err)
			continue
		}
		var parts []string
		for _, mt := range rcv.Metrics {
			parts = append(parts, mt.Name+"="+mt.Value.Text)
		}
		text := strings.Join(append(parts, "id="+rcv.CorrelationID), " ")
		if w, ok := want[rcv.App]; !ok || text != w {
			t.Errorf("app %q: %s, want one of %v (topic %s)", rcv.App, text, want, rcv.Topic)
		}
		delete(want, rcv.App)
	}
}
