package main

import (
	"fmt"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/internal/brokertest"
)

// The landing is the moment the queue first holds every message: not
// before the last one is published, and not when the watch is stopped
// first.
func TestLanding(t *testing.T) {
	uri := brokertest.AMQPURI(t)
	queue := fmt.Sprintf("metricsender-bench-landing-%d", time.Now().UnixNano())
	ch := brokertest.Channel(t, uri)
	if _, err := ch.QueueDeclare(queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	brokertest.DeleteQueueAtCleanup(t, uri, queue)

	stop := make(chan struct{})
	defer close(stop)
	var polls int // the broker CPU is read at the landing, once
	l, err := watchLanding(uri, queue, 3, stop, func() time.Duration { polls++; return 42 * time.Second })
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i := range 3 {
		time.Sleep(20 * time.Millisecond) // several polls between the messages
		if _, err := l.result(); err == nil {
			t.Fatalf("landed after %d of 3 messages", i)
		}
		last = time.Now()
		brokertest.Publish(t, uri, "", queue, amqp091.Publishing{Body: []byte("x")})
	}
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		t.Fatal("no landing after the third message")
	}
	at, err := l.result()
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(last) {
		t.Errorf("landed at %s, before the last publish (%s)", at, last)
	}
	if l.brokerCPU != 42*time.Second || polls != 1 {
		t.Errorf("broker CPU %s read %d times, want 42s read once, at the landing", l.brokerCPU, polls)
	}

	stopEarly := make(chan struct{})
	l2, err := watchLanding(uri, queue, 4, stopEarly, nil)
	if err != nil {
		t.Fatal(err)
	}
	close(stopEarly)
	<-l2.done
	if _, err := l2.result(); err == nil {
		t.Error("a watch stopped before the queue held 4 messages reports a landing")
	}
}
