package transport

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Start-up retry pacing: 500ms doubling to 30s, with ±25% jitter so that
// many pods restarted together do not hit the broker in step.
const (
	connectBackoffMin = 500 * time.Millisecond
	connectBackoffMax = 30 * time.Second
)

// retryConnect calls connect until it succeeds, logging one line per failed
// attempt (rawURI is masked everywhere, and scrubbed from the causes). It
// stops when ctx is done (an error wrapping ctx.Err()), when timeout (> 0)
// has elapsed (an error saying it gave up, with the last cause), or at once
// when permanent(err) (an error wrapping ErrPermanent).
func retryConnect[T any](ctx context.Context, rawURI string, timeout time.Duration, logger *slog.Logger,
	permanent func(error) bool, connect func() (T, error)) (T, error) {
	var zero T
	uri := RedactURI(rawURI)
	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	delay := connectBackoffMin
	for attempt := 1; ; attempt++ {
		conn, err := connect()
		if err == nil {
			logger.Info("connected to broker", "uri", uri, "attempts", attempt)
			return conn, nil
		}
		err = scrubError(err, rawURI)
		if ctx.Err() != nil {
			return zero, fmt.Errorf("connect to %s: %w (last error: %w)", uri, ctx.Err(), err)
		}
		if permanent(err) {
			return zero, fmt.Errorf("connect to %s: %w: %w", uri, ErrPermanent, err)
		}
		wait := jitter(delay)
		logger.Warn("broker unreachable, retrying", "uri", uri, "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "err", err)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return zero, fmt.Errorf("connect to %s: %w (last error: %w)", uri, ctx.Err(), err)
		case <-deadline:
			timer.Stop()
			return zero, fmt.Errorf("connect to %s: gave up after %s (%d attempts, --connect-timeout): %w", uri, timeout, attempt, err)
		case <-timer.C:
		}
		delay = min(2*delay, connectBackoffMax)
	}
}

// jitter spreads d by ±25%.
func jitter(d time.Duration) time.Duration {
	return d - d/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}
