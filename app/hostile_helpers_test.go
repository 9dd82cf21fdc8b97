package app_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/syncbuf"
)

// waitFor polls buf until ok holds, calling poke (if not nil) each round.
func waitFor(t *testing.T, ctx context.Context, buf *syncbuf.Buffer, what string, poke func(), ok func(string) bool) {
	t.Helper()
	for !ok(buf.String()) {
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, buf.String())
		}
		if poke != nil {
			poke()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// confirmPublisher publishes on one channel in confirm mode, so messages
// reach the queue in the order published.
type confirmPublisher struct {
	ch *amqp.Channel
}

func newConfirmPublisher(t *testing.T, uri string) *confirmPublisher {
	t.Helper()
	ch := brokertest.Channel(t, uri)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	return &confirmPublisher{ch: ch}
}

func (p *confirmPublisher) publish(t *testing.T, key string, msg amqp.Publishing) {
	t.Helper()
	conf, err := p.ch.PublishWithDeferredConfirm("is", key, false, false, msg)
	if err != nil {
		t.Fatalf("publish %s: %v", key, err)
	}
	if !conf.Wait() {
		t.Fatalf("publish %s: nacked by the broker", key)
	}
}
