package transport

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/internal/brokertest"
)

func TestOutageBuffer(t *testing.T) {
	items := func(keys ...string) []pubItem {
		out := make([]pubItem, len(keys))
		for i, k := range keys {
			out[i] = pubItem{key: k}
		}
		return out
	}
	keys := func(its []pubItem) string {
		var s []string
		for _, it := range its {
			s = append(s, it.key)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name        string
		capacity    int
		ops         func(b *outageBuffer) int // returns dropped
		wantDropped int
		want        string
	}{
		{
			name: "fifo", capacity: 5,
			ops:  func(b *outageBuffer) int { return b.push(items("a", "b")) + b.push(items("c")) },
			want: "a,b,c",
		},
		{
			name: "overflow drops the oldest", capacity: 3,
			ops:         func(b *outageBuffer) int { return b.push(items("a", "b")) + b.push(items("c", "d", "e")) },
			wantDropped: 2, want: "c,d,e",
		},
		{
			name: "one call larger than the buffer", capacity: 2,
			ops:         func(b *outageBuffer) int { return b.push(items("a", "b", "c", "d")) },
			wantDropped: 2, want: "c,d",
		},
		{
			name: "pushFront keeps the order", capacity: 5,
			ops: func(b *outageBuffer) int {
				n := b.push(items("a", "b", "c", "d"))
				got := b.popFront(nil, 2) // a, b taken by a flush, c, d wait
				n += b.push(items("e"))
				return n + b.pushFront(got) // the flush was cut off
			},
			want: "a,b,c,d,e",
		},
		{
			name: "pushFront past capacity drops the oldest, the put-back ones", capacity: 3,
			ops: func(b *outageBuffer) int {
				n := b.push(items("a", "b", "c"))
				got := b.popFront(nil, 2)
				n += b.push(items("d", "e"))
				return n + b.pushFront(got)
			},
			wantDropped: 2, want: "c,d,e",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newOutageBuffer(tt.capacity)
			if dropped := tt.ops(b); dropped != tt.wantDropped {
				t.Errorf("dropped %d, want %d", dropped, tt.wantDropped)
			}
			if b.Len() != strings.Count(tt.want, ",")+1 {
				t.Errorf("Len = %d, want %d", b.Len(), strings.Count(tt.want, ",")+1)
			}
			var got []pubItem
			for b.Len() > 0 {
				got = b.popFront(got, 2)
			}
			if keys(got) != tt.want {
				t.Errorf("drained %s, want %s", keys(got), tt.want)
			}
			if b.push(items("z")) != 0 || b.clear() != 1 || b.Len() != 0 {
				t.Error("buffer not reusable after draining")
			}
		})
	}
}

// TestPublishAcrossConnectionDrops cuts the publisher's connection five
// times, publishing after each cut: with confirms nothing may be lost
// (a cut during a flush may duplicate: at-least-once).
func TestPublishAcrossConnectionDrops(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
	const perRound, total = 200, 5 * 200
	for round := range 5 {
		e.dropConnection(t)
		if err := e.pub.Publish(codec.Topic(app), numbered(app, round*perRound, perRound)...); err != nil {
			t.Fatalf("round %d: Publish: %v", round, err)
		}
	}
	seen := make(map[int]bool, total)
	for len(seen) < total {
		for _, n := range bodies(t, receiveN(t, q.ds, 1)) {
			seen[n] = true
		}
	}
	e.obs.do(func() {
		if e.obs.downs != 5 || e.obs.dropped != 0 {
			t.Errorf("observer: downs %d dropped %d, want 5 and 0", e.obs.downs, e.obs.dropped)
		}
	})
}

// TestPublishAfterChannelsClosed closes the pool's channels under the
// publisher: the next calls reopen them.
func TestPublishAfterChannelsClosed(t *testing.T) {
	e := newTestEnv(t, nil, func(c *AMQPConfig) { c.ChannelPoolSize = 2 })
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
	for round := range 5 {
		if err := e.pub.Publish(codec.Topic(app), numbered(app, round*10, 10)...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, pc := range e.pub.pool.drain() {
			_ = pc.ch.Close()
			e.pub.pool.put(pc)
		}
	}
	got := bodies(t, receiveN(t, q.ds, 50))
	if !slices.IsSorted(got) || got[0] != 0 || got[49] != 49 {
		t.Errorf("bodies %v, want 0..49 in order", got)
	}
}

// TestPublishOutageBuffer: while the broker is unreachable Publish returns
// nil at once, and after the reconnect the buffered messages arrive in
// order, before newer ones.
func TestPublishOutageBuffer(t *testing.T) {
	e := newTestEnv(t, nil, nil)
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
	e.dialer.refuse.Store(true)
	e.dropConnection(t)
	for i := range 10 {
		if err := e.pub.Publish(codec.Topic(app), numbered(app, i*10, 10)...); err != nil {
			t.Fatalf("Publish during the outage: %v", err)
		}
	}
	if n := e.pub.buf.Len(); n != 100 {
		t.Fatalf("buffered %d, want 100", n)
	}
	e.dialer.refuse.Store(false)
	// Published right after the reconnect: must come after the buffered ones.
	waitFor(t, "reconnect", func() bool { return e.pub.live() != nil })
	if err := e.pub.Publish(codec.Topic(app), numbered(app, 100, 10)...); err != nil {
		t.Fatal(err)
	}
	got := bodies(t, receiveN(t, q.ds, 110))
	for i, n := range got {
		if n != i {
			t.Fatalf("delivery %d has body %d: out of order", i, n)
		}
	}
}

func TestPublishOutageOverflow(t *testing.T) {
	e := newTestEnv(t, nil, func(c *AMQPConfig) { c.Buffer = 5 })
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
	e.dialer.refuse.Store(true)
	e.dropConnection(t)
	for i := range 8 {
		if err := e.pub.Publish(codec.Topic(app), numbered(app, i, 1)...); err != nil {
			t.Fatal(err)
		}
	}
	e.obs.do(func() {
		if e.obs.dropped != 3 {
			t.Errorf("observer dropped = %d, want 3", e.obs.dropped)
		}
	})
	if !strings.Contains(e.logs.String(), "messages dropped") {
		t.Errorf("no warning about dropped messages:\n%s", e.logs)
	}
	e.dialer.refuse.Store(false)
	if got := bodies(t, receiveN(t, q.ds, 5)); !slices.Equal(got, []int{3, 4, 5, 6, 7}) {
		t.Errorf("after the reconnect got %v, want the newest 5: [3 4 5 6 7]", got)
	}
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		name        string
		reconnect   bool // the broker comes back while Shutdown waits
		wantDropped int
	}{
		{name: "flushes the buffer after the reconnect", reconnect: true},
		{name: "drops and counts what it could not flush", wantDropped: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil, nil)
			app := uniqueApp(t)
			q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
			e.dialer.refuse.Store(true)
			e.dropConnection(t)
			if err := e.pub.Publish(codec.Topic(app), numbered(app, 0, 20)...); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.reconnect {
				e.dialer.refuse.Store(false)
			} else {
				cancel() // the deadline has passed
			}
			if err := e.pub.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if tt.reconnect {
				receiveN(t, q.ds, 20)
			}
			e.obs.do(func() {
				if e.obs.dropped != tt.wantDropped {
					t.Errorf("dropped %d, want %d", e.obs.dropped, tt.wantDropped)
				}
			})
			if err := e.pub.Shutdown(context.Background()); err != nil {
				t.Errorf("second Shutdown: %v", err)
			}
		})
	}
}

// TestPublishHungBroker freezes the broker's replies (no confirms, no
// close-ok): the watchdog gives up on the channel, then cuts the
// connection; Publish returns, the messages wait in the buffer and arrive
// once the broker answers again.
func TestPublishHungBroker(t *testing.T) {
	u, err := amqp091.ParseURI(brokertest.AMQPURI(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := brokertest.NewProxy(t, net.JoinHostPort(u.Host, strconv.Itoa(u.Port)))
	e := newTestEnv(t, proxy, func(c *AMQPConfig) { c.PublishTimeout = 2 * time.Second })
	app := uniqueApp(t)
	q := bindQueue(t, e.uri, "is", true, codec.Topic(app))
	if err := e.pub.Publish(codec.Topic(app), numbered(app, 0, 1)...); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze(true)
	done := make(chan error, 1)
	go func() { done <- e.pub.Publish(codec.Topic(app), numbered(app, 1, 5)...) }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, errPublishTimeout) {
			t.Fatalf("Publish on a hung broker: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Publish blocked on a hung broker")
	}
	waitFor(t, "the watchdog cuts the wedged connection", func() bool { return e.pub.live() == nil })
	if err := e.pub.Publish(codec.Topic(app), numbered(app, 6, 2)...); err != nil {
		t.Fatalf("Publish while cut off: %v", err)
	}
	proxy.Freeze(false)
	seen := map[int]bool{}
	for len(seen) < 8 { // the broker got the frozen call's messages: duplicates allowed
		for _, n := range bodies(t, receiveN(t, q.ds, 1)) {
			seen[n] = true
		}
	}
	e.obs.do(func() {
		if e.obs.failed["timeout"] == 0 {
			t.Errorf("no timeout counted: %v", e.obs.failed)
		}
	})
}
