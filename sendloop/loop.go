package sendloop

import (
	"context"
	"log/slog"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/delay"
)

// Config is one run's schedule, faults, output and hooks.
type Config struct {
	Schedule *generator.Schedule
	Injector *generator.Injector
	// Start is the schedule's start: a held event is due at its tick's
	// time plus its delay.
	Start time.Time
	// Emit hands events to the publisher; it returns once they were taken.
	Emit func(ctx context.Context, events []generator.Event) error
	// ShutdownTimeout bounds the sending of held events after a signal.
	ShutdownTimeout time.Duration

	// Hooks; each may be nil.
	Mint   func(events []generator.Event)               // before faults: copies share their original's id
	Sent   func(events []generator.Event, at time.Time) // what went on the wire
	Tick   func(lag time.Duration, events []generator.Event)
	Values func(events []generator.Event) // the later parts of a tick
	// Faulted gets each batch as the injector made it, suppressed events
	// and extra copies included, while faults are active.
	Faulted func(events []generator.Event)
}

// Run runs the schedule until it ends or ctx is done, then sends or waits
// for what a delay fault still holds (see the package doc). It returns
// the wire messages handed to Emit, injected copies and delayed ones
// included, and the schedule's error.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (emitted int, err error) {
	sent := func(events []generator.Event, at time.Time) {
		if cfg.Sent != nil {
			cfg.Sent(events, at)
		}
	}
	// Delayed messages go out on their own clock; a signal sends what is
	// held with the buffer flush, so they must outlive ctx.
	delays := delay.New(func(ctx context.Context, events []generator.Event) error {
		sentAt := time.Now() // a delayed message's request opens when it goes out
		if err := cfg.Emit(ctx, events); err != nil {
			return err
		}
		sent(events, sentAt)
		return nil
	})
	delaysDone := make(chan error, 1)
	go func() { delaysDone <- delays.Run(context.WithoutCancel(ctx)) }()
	faultLog := newFaultLog(cfg.Injector, logger)

	var faulted []generator.Event
	// The tick whose parts are being sent: when its first part started and
	// how late, and its messages so far.
	var (
		lag, tickBegin = time.Duration(0), time.Time{}
		tickMessages   int
	)
	runErr := cfg.Schedule.Run(ctx, func(ctx context.Context, b generator.Batch) error {
		if b.Part == 0 {
			lag, tickBegin, tickMessages = time.Since(b.Events[0].Time), time.Now(), 0
		}
		events := b.Events
		if cfg.Mint != nil {
			cfg.Mint(b.Events) // before faults: copies share their original's id
		}
		if cfg.Injector.Active() {
			faulted = cfg.Injector.Apply(b.Events, b.At, nil, faulted[:0])
			if cfg.Faulted != nil {
				cfg.Faulted(faulted)
			}
			events = sendNow(faulted, delays, cfg.Start.Add(b.At))
		}
		// A request opens when it is handed to the publisher: an answer
		// may come before Emit returns (it waits for the publish).
		sentAt := time.Now()
		if err := cfg.Emit(ctx, events); err != nil {
			return err
		}
		sent(events, sentAt)
		// The generated values, whatever faults did to them.
		if b.Part == 0 && cfg.Tick != nil {
			cfg.Tick(lag, b.Events)
		} else if b.Part != 0 && cfg.Values != nil {
			cfg.Values(b.Events)
		}
		emitted += len(events)
		tickMessages += len(events)
		if b.Last {
			faultLog.tick(time.Now())
			logger.Info("tick", "at", b.At, "messages", tickMessages, "lag", lag.Round(time.Millisecond),
				"took", time.Since(tickBegin).Round(time.Millisecond), "emitted", emitted)
		}
		return nil
	})
	// Delayed messages still held: a natural end waits for them, a signal
	// sends them now (within --shutdown-timeout, with the buffer flush).
	delays.Close(ctx.Err() != nil)
	if n := delays.Len(); n > 0 {
		logger.Info("sending the messages a delay fault still holds", "held", n, "now", ctx.Err() != nil)
	}
	emitted += waitDelays(delays, delaysDone, ctx.Err() != nil, cfg.ShutdownTimeout, logger)
	faultLog.flush()
	return emitted, runErr
}
