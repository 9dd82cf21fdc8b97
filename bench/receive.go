package main

import (
	"fmt"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// prefill publishes msgs through the exchange (so the routing keys and
// properties are what metricsender would have sent) with confirms, and
// waits until the queue holds all of them.
func prefill(b *broker, queue string, msgs []publishing) error {
	if _, _, err := plainSend(b.uri, b.exchange, msgs, true); err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	n, err := b.settle(queue, len(msgs))
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	if n != len(msgs) {
		return fmt.Errorf("prefill: queue %q holds %d messages, want %d (another client publishing on these keys?)", queue, n, len(msgs))
	}
	return nil
}

// plainReceive drains n messages from queue with a plain amqp091-go
// consumer: prefetch 1000, manual acks, one ack per message, nothing else
// done with them. The time runs from dialling to the last ack, as the
// CLI's runs from its start-up log line to its stop line.
func plainReceive(uri, queue string, n int) (time.Duration, error) {
	start := time.Now()
	conn, err := amqp091.Dial(uri)
	if err != nil {
		return 0, fmt.Errorf("plain receive: dial: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return 0, fmt.Errorf("plain receive: channel: %w", err)
	}
	if err := ch.Qos(1000, 0, false); err != nil {
		return 0, fmt.Errorf("plain receive: qos: %w", err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		return 0, fmt.Errorf("plain receive: consume: %w", err)
	}
	got := 0
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for got < n {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return 0, fmt.Errorf("plain receive: deliveries closed after %d", got)
			}
			if err := d.Ack(false); err != nil {
				return 0, fmt.Errorf("plain receive: ack: %w", err)
			}
			got++
		case <-timeout.C:
			return 0, fmt.Errorf("plain receive: %d of %d messages after a minute", got, n)
		}
	}
	took := time.Since(start)
	return took, nil
}
