package transport

import (
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
)

func TestRebindState(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	type step struct {
		at      time.Duration // after t0
		open    bool          // a reconnect at this time
		retry   bool          // want retry's verdict (when not open)
		wait    time.Duration // want retry's wait, when retried
		heldFor time.Duration // want heldUntil - (t0+at) after the step
	}
	tests := []struct {
		name   string
		window time.Duration
		steps  []step
	}{
		{"the first connection opens no window", 30 * time.Second, []step{
			{at: 0, retry: false},
		}},
		{"backoff doubles up to its ceiling inside the window", 30 * time.Second, []step{
			{at: 0, open: true},
			{at: time.Second, retry: true, wait: rebindRetryMin, heldFor: rebindRetryMin},
			{at: 2 * time.Second, retry: true, wait: 2 * rebindRetryMin, heldFor: 2 * rebindRetryMin},
			{at: 3 * time.Second, retry: true, wait: 4 * rebindRetryMin, heldFor: 4 * rebindRetryMin},
			{at: 5 * time.Second, retry: true, wait: rebindRetryMax, heldFor: rebindRetryMax},
			{at: 8 * time.Second, retry: true, wait: rebindRetryMax, heldFor: rebindRetryMax},
		}},
		{"a hold already running is shared, not extended", 30 * time.Second, []step{
			{at: 0, open: true},
			{at: time.Second, retry: true, wait: rebindRetryMin, heldFor: rebindRetryMin},
			{at: time.Second + 100*time.Millisecond, retry: true, wait: rebindRetryMin - 100*time.Millisecond, heldFor: rebindRetryMin - 100*time.Millisecond},
		}},
		{"outside the window returns are not retried", 30 * time.Second, []step{
			{at: 0, open: true},
			{at: 31 * time.Second, retry: false},
		}},
		{"each reconnect opens a new window and resets the backoff", 10 * time.Second, []step{
			{at: 0, open: true},
			{at: time.Second, retry: true, wait: rebindRetryMin, heldFor: rebindRetryMin},
			{at: 2 * time.Second, retry: true, wait: 2 * rebindRetryMin, heldFor: 2 * rebindRetryMin},
			{at: 20 * time.Second, retry: false},
			{at: 40 * time.Second, open: true},
			{at: 41 * time.Second, retry: true, wait: rebindRetryMin, heldFor: rebindRetryMin},
		}},
		{"window 0 never retries", 0, []step{
			{at: 0, open: true},
			{at: time.Second, retry: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rebindState{window: tt.window}
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				if s.open {
					r.open(now)
					continue
				}
				wait, ok := r.retry(now)
				if ok != s.retry || wait != s.wait {
					t.Fatalf("step %d: retry = %s, %v; want %s, %v", i, wait, ok, s.wait, s.retry)
				}
				if got := r.heldUntil().Sub(now); s.retry && got != s.heldFor {
					t.Fatalf("step %d: held for %s, want %s", i, got, s.heldFor)
				}
			}
		})
	}
}

func TestMatchReturns(t *testing.T) {
	item := func(key, corr string) pubItem {
		m := message.NewMessage("", nil)
		m.Metadata = message.Metadata{codec.KeyCorrelationID: corr}
		return pubItem{key: key, msg: m}
	}
	ret := func(key, corr string) amqp091.Return { return amqp091.Return{RoutingKey: key, CorrelationId: corr} }
	items := []pubItem{item("Metrics.a", "A1"), item("Metrics.b", "B1"), item("Metrics.a", "A2"), item("Metrics.a", "X"), item("Metrics.a", "X")}
	tests := []struct {
		name     string
		returned []amqp091.Return
		want     []int
	}{
		{"none", nil, nil},
		{"by key and correlation id", []amqp091.Return{ret("Metrics.a", "A2"), ret("Metrics.b", "B1")}, []int{2, 1}},
		{"same id: in order", []amqp091.Return{ret("Metrics.a", "X"), ret("Metrics.a", "X")}, []int{3, 4}},
		{"more returns than messages of that id", []amqp091.Return{ret("Metrics.a", "A1"), ret("Metrics.a", "A1")}, []int{0}},
		{"a return of another call is left out", []amqp091.Return{ret("Metrics.c", "C1"), ret("Metrics.b", "A1")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, rets := matchReturns(items, tt.returned)
			if !slices.Equal(idx, tt.want) {
				t.Fatalf("indices %v, want %v", idx, tt.want)
			}
			if len(rets) != len(idx) {
				t.Fatalf("%d returns for %d indices", len(rets), len(idx))
			}
			for i, r := range rets {
				if it := items[idx[i]]; r.RoutingKey != it.key || r.CorrelationId != it.msg.Metadata[codec.KeyCorrelationID] {
					t.Errorf("return %d (%s %s) paired with %s %s", i, r.RoutingKey, r.CorrelationId, it.key, it.msg.Metadata[codec.KeyCorrelationID])
				}
			}
		})
	}
}
