package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/transport"
)

// confirmWindow is how many unconfirmed messages the plain publisher keeps
// in flight with confirms on (issue 5's baseline).
const confirmWindow = 1000

// plainSend publishes msgs on one channel in a tight loop, mandatory as
// metricsender publishes. With confirm, it keeps a sliding window of
// confirmWindow unconfirmed messages and returns once all are confirmed.
// It returns when the loop started (dialling excluded) and how long it took.
func plainSend(uri, exchange string, msgs []publishing, confirm bool) (time.Time, time.Duration, error) {
	conn, err := amqp091.Dial(uri)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("plain send: dial: %w", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("plain send: channel: %w", err)
	}
	if confirm {
		if err := ch.Confirm(false); err != nil {
			return time.Time{}, 0, fmt.Errorf("plain send: confirm mode: %w", err)
		}
	}
	ring := make([]*amqp091.DeferredConfirmation, confirmWindow)
	start := time.Now()
	for i, m := range msgs {
		dc, err := ch.PublishWithDeferredConfirm(exchange, m.key, true, false, m.pub)
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("plain send: publish %d: %w", i, err)
		}
		if !confirm {
			continue
		}
		if old := ring[i%confirmWindow]; old != nil && !old.Wait() {
			return time.Time{}, 0, fmt.Errorf("plain send: message %d nacked", i-confirmWindow)
		}
		ring[i%confirmWindow] = dc
	}
	for _, dc := range ring {
		if dc != nil && !dc.Wait() {
			return time.Time{}, 0, errors.New("plain send: nacked")
		}
	}
	return start, time.Since(start), nil
}

// pathSend runs metricsender's send path in this process, built as
// app/send.go builds it: transport.New("amqp") -> codec.Source (shards of
// codec.DefaultShardSize) -> watermill router with codec.PublishMiddleware
// around codec.Middleware -> our publisher, driven by generator.Schedule.Run with a 1 ms interval for
// ticks ticks (ticks never skipped, so it runs as fast as it can). What it
// leaves out of the CLI: the Prometheus observer, the tick log line and
// the HTTP server. The time covers Schedule.Run only (connection set-up
// excluded), and ends when every shard was published (and, with confirm,
// confirmed). shard is the events per router message (0: the codec's
// default, what the CLI uses). It returns when Schedule.Run started, the
// time it took and the number of events emitted.
func pathSend(ctx context.Context, uri, exchange string, cfg *generator.Config, ticks, shard int, confirm bool, logger *slog.Logger) (time.Time, time.Duration, int, error) {
	pair, err := transport.New(ctx, "amqp", transport.Options{
		URI: uri, Exchange: exchange, Confirm: confirm, Topics: []string{codec.TopicPrefix + "*"},
	}, logger)
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("path send: connect: %w", err)
	}
	defer pair.Close()
	source := codec.NewSource(shard)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, watermill.NopLogger{})
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("path send: router: %w", err)
	}
	router.AddMiddleware(codec.PublishMiddleware(pair.Publisher), codec.Middleware())
	router.AddHandler("publish", "events", source, codec.TopicPrefix+"*", pair.Publisher,
		func(msg *message.Message) ([]*message.Message, error) { return []*message.Message{msg}, nil })
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return time.Time{}, 0, 0, fmt.Errorf("path send: start router: %w", err)
	}
	sched, err := generator.NewSchedule(cfg, generator.ScheduleOptions{
		Run: benchRun, Seed: 1, Interval: time.Millisecond, Count: ticks,
	})
	if err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("path send: schedule: %w", err)
	}
	sent := 0
	start := time.Now()
	runErr := sched.Run(ctx, func(ctx context.Context, b generator.Batch) error {
		if err := source.Emit(ctx, b.Events); err != nil {
			return err
		}
		sent += len(b.Events)
		return nil
	})
	took := time.Since(start)
	_ = source.Close()
	closeErr := router.Close()
	<-routerDone
	if runErr != nil {
		return time.Time{}, 0, 0, fmt.Errorf("path send: %w", runErr)
	}
	if closeErr != nil {
		return time.Time{}, 0, 0, fmt.Errorf("path send: close router: %w", closeErr)
	}
	return start, took, sent, nil
}
