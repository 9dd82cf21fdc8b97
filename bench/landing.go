package main

import (
	"errors"
	"fmt"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// landingPoll is how often a landing asks the broker for the queue's count:
// ~200 passive declares a second, next to tens of thousands of publishes.
const landingPoll = 5 * time.Millisecond

// landing watches a queue from a connection of its own until it holds want
// messages, and keeps the time it first did. Without confirms a publisher
// is done when its last write returns, but the messages are sent only once
// the broker has them: how far the two lie apart depends on how much the
// socket buffers and whether RabbitMQ's flow control held the writer back,
// which differs from run to run. The time to landing is the same for any
// client, so it compares two clients on what a consumer sees.
//
// The landing is seen when a poll's answer says so: up to landingPoll plus
// a broker round trip after it happened, against 3-4 s runs, alike for
// every client.
type landing struct {
	done      chan struct{}
	at        time.Time     // set before done closes; zero if never reached
	brokerCPU time.Duration // the broker's CPU time at the landing
	err       error
}

// watchLanding starts watching queue on the broker at uri, until the
// queue holds want messages or stop is closed. At the landing it also
// reads brokerCPU (nil: not read), so that the broker's CPU per message
// covers the same span as the rate.
func watchLanding(uri, queue string, want int, stop <-chan struct{}, brokerCPU func() time.Duration) (*landing, error) {
	conn, err := amqp091.Dial(uri)
	if err != nil {
		return nil, fmt.Errorf("landing watch: dial: %w", err)
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("landing watch: channel: %w", err)
	}
	l := &landing{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer conn.Close()
		tick := time.NewTicker(landingPoll)
		defer tick.Stop()
		for {
			q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
			if err != nil {
				l.err = fmt.Errorf("landing watch: count %q: %w", queue, err)
				return
			}
			if q.Messages >= want {
				l.at = time.Now()
				if brokerCPU != nil {
					l.brokerCPU = brokerCPU()
				}
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	return l, nil
}

// result is when the queue first held want messages, or an error when the
// watch failed or has not seen it (yet).
func (l *landing) result() (time.Time, error) {
	select {
	case <-l.done:
	default:
		return time.Time{}, errors.New("landing watch: the queue holds every message, but the watch has not seen it within a second")
	}
	if l.err != nil {
		return time.Time{}, l.err
	}
	if l.at.IsZero() {
		return time.Time{}, errors.New("landing watch: stopped before the queue held every message")
	}
	return l.at, nil
}
