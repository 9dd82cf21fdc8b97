package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/codec"
)

// counts reads the observer's totals for topic under its lock.
func (o *recHooks) counts(topic string) (published, unroutable, dropped, retried int) {
	o.do(func() {
		published, unroutable, dropped, retried = o.published[topic], o.unroutable[topic], o.dropped, o.failed["unroutable"]
	})
	return
}

// TestPublishRebindWindow: after a reconnect, messages the broker returns
// as unroutable go back to the buffer and are retried until a queue is
// bound (inside the window); without a window they count as unroutable.
// Either way each message is counted once.
func TestPublishRebindWindow(t *testing.T) {
	tests := []struct {
		name      string
		window    time.Duration
		reconnect bool
		retried   bool
	}{
		{name: "retried after a reconnect", window: 30 * time.Second, reconnect: true, retried: true},
		{name: "the first connection opens no window", window: 30 * time.Second},
		{name: "window off", reconnect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, func(c *AMQPConfig) { c.RebindWindow = tt.window })
			app := uniqueApp(t)
			topic := codec.Topic(app)
			if tt.reconnect {
				e.dropConnection(t)
				waitFor(t, "reconnect", func() bool { return e.pub.live() != nil })
			}
			if err := e.pub.Publish(topic, numbered(app, 0, 5)...); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if !tt.retried {
				if p, u, d, r := e.obs.counts(topic); p != 0 || u != 5 || d != 0 || r != 0 {
					t.Fatalf("published %d unroutable %d dropped %d retried %d, want 0 5 0 0", p, u, d, r)
				}
				return
			}
			waitFor(t, "a retry round", func() bool { _, _, _, r := e.obs.counts(topic); return r >= 10 })
			q := bindQueue(t, e.uri, "is", true, topic) // a receiver binds again
			got := bodies(t, receiveN(t, q.ds, 5))
			for i, n := range got {
				if n != i {
					t.Fatalf("bodies %v, want 0..4 in order", got)
				}
			}
			waitFor(t, "published counted", func() bool { p, _, _, _ := e.obs.counts(topic); return p == 5 })
			if p, u, d, _ := e.obs.counts(topic); p != 5 || u != 0 || d != 0 {
				t.Errorf("published %d unroutable %d dropped %d, want 5 0 0", p, u, d)
			}
			if n := strings.Count(e.logs.String(), "level=INFO msg=\"messages unroutable soon after a reconnect"); n != 1 {
				t.Errorf("%d info lines about the retry, want 1:\n%s", n, e.logs)
			}
		})
	}
}

// TestDrain: the natural end of a run waits through an outage until every
// buffered message is confirmed, and through the rebind window; past
// maxOutage it gives up and counts the buffer as dropped.
func TestDrain(t *testing.T) {
	tests := []struct {
		name       string
		window     time.Duration
		outage     bool          // the broker is unreachable when Drain starts
		back       time.Duration // it comes back this long after (0: never)
		maxOutage  time.Duration
		wantErr    bool
		published  int
		unroutable int
		dropped    int
	}{
		{name: "waits through an outage", outage: true, back: time.Second, published: 20},
		{name: "gives up past maxOutage", outage: true, maxOutage: time.Second, wantErr: true, dropped: 20},
		{name: "waits out the rebind window", window: 2 * time.Second, unroutable: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, func(c *AMQPConfig) { c.RebindWindow = tt.window })
			app := uniqueApp(t)
			topic := codec.Topic(app)
			var q testQueue
			if tt.published > 0 {
				q = bindQueue(t, e.uri, "is", true, topic)
			}
			e.dialer.refuse.Store(true)
			e.dropConnection(t)
			if !tt.outage {
				e.dialer.refuse.Store(false)
				waitFor(t, "reconnect", func() bool { return e.pub.live() != nil })
			}
			if err := e.pub.Publish(topic, numbered(app, 0, 20)...); err != nil {
				t.Fatal(err)
			}
			if tt.back > 0 {
				time.AfterFunc(tt.back, func() { e.dialer.refuse.Store(false) })
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			err := e.pub.Drain(ctx, tt.maxOutage)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Drain: %v, want an error: %v", err, tt.wantErr)
			}
			if tt.published > 0 {
				receiveN(t, q.ds, tt.published)
			}
			if p, u, d, _ := e.obs.counts(topic); p != tt.published || u != tt.unroutable || d != tt.dropped {
				t.Errorf("published %d unroutable %d dropped %d, want %d %d %d", p, u, d, tt.published, tt.unroutable, tt.dropped)
			}
			if tt.dropped > 0 {
				e.obs.do(func() {
					if e.obs.droppedBy[DropOutage] != tt.dropped {
						t.Errorf("dropped by reason %v, want all %s", e.obs.droppedBy, DropOutage)
					}
				})
			}
			if n := e.pub.buf.Len(); n != 0 {
				t.Errorf("%d messages still buffered after Drain", n)
			}
		})
	}
}

// TestDrainExchangeRefused: the exchange comes back with other flags while
// the broker is unreachable; Drain cannot wait that away: it returns the
// permanent error and counts the buffer as dropped (DropFailed).
func TestDrainExchangeRefused(t *testing.T) {
	e, q, name := ownExchangeDown(t)
	if err := e.pub.Publish("Metrics.x", numbered("x", 0, 7)...); err != nil {
		t.Fatal(err)
	}
	redeclareDurable(t, q.ch, name)
	e.dialer.refuse.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := e.pub.Drain(ctx, 0); !errors.Is(err, ErrPermanent) {
		t.Fatalf("Drain = %v, want the permanent 406", err)
	}
	e.obs.do(func() {
		if e.obs.droppedBy[DropFailed] != 7 {
			t.Errorf("dropped by reason %v, want 7 %s", e.obs.droppedBy, DropFailed)
		}
	})
}
