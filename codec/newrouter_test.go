package codec_test

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/labsea/metricsender/codec"
)

// closeCounter is a recorder that counts its Close calls.
type closeCounter struct {
	recorder
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

// TestNewRouter: what is emitted reaches the publisher, one message per
// event, and closing the router leaves the publisher open.
func TestNewRouter(t *testing.T) {
	src := codec.NewSource(0)
	pub := &closeCounter{}
	router, err := codec.NewRouter(src, pub, time.Second, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- router.Run(context.Background()) }()
	<-router.Running()
	if err := src.Emit(context.Background(), tickEvents(3, 1)); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if err := router.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := len(pub.received(t)); got != 3 {
		t.Errorf("published %d messages, want 3", got)
	}
	if pub.closed != 0 {
		t.Errorf("the router closed the publisher %d times, want never", pub.closed)
	}
}
