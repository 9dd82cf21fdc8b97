package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/labsea/metricsender/transport"
)

// finish ends the run: it stops taking new work, lets a --count run's
// natural end drain the publisher's buffer, flushes the rest within
// --shutdown-timeout, logs the stopped line and, with feedback, judges
// the operator. It returns the run's error (see endSend and judgeRun).
func (r *sendRun) finish(ctx context.Context, runErr error, emitted int, stderr io.Writer) error {
	opts, logger := r.opts, r.logger
	// Stop taking new work. Every Emit returned, so no publish is in flight.
	closeErr := r.stop()
	if runErr == nil && ctx.Err() == nil {
		// The natural end of a --count run is not a shutdown: wait until
		// every buffered message is confirmed, through an outage too.
		if err := r.pair.Drain(ctx, opts.conn.timeout); err != nil && ctx.Err() == nil {
			logger.Warn("giving up on buffered messages", "error", err)
		}
	}
	shutdownPublisher(r.pair, opts.shutdownTimeout)
	err := endSend(ctx, opts, runErr, closeErr, emitted, r.metrics.totals.report(), logger)
	if r.running.Tracker != nil {
		if jerr := judgeRun(ctx, r.running.Tracker, opts.judge, runErr == nil && ctx.Err() == nil, stderr, r.live); err == nil {
			err = jerr
		}
	}
	return err
}

// endSend logs the stopped line and decides the run's error: the
// schedule's or the router's failure, else, for a --count run that ended
// by itself, its drops. A run ended by a signal reports its drops in a
// warning and returns nil.
func endSend(ctx context.Context, opts sendOptions, runErr, closeErr error, emitted int, r runReport, logger *slog.Logger) error {
	logger.Info("stopped", "published", r.Published, "dropped", r.Dropped, "unroutable", r.Unroutable, "emitted", emitted)
	signalled := ctx.Err() != nil
	if runErr != nil && !(errors.Is(runErr, context.Canceled) && signalled) {
		return fmt.Errorf("send: %w", runErr)
	}
	if closeErr != nil {
		return fmt.Errorf("stop router: %w", closeErr)
	}
	line := r.dropLine(opts)
	switch {
	case line == "":
		return nil
	case signalled:
		logger.Warn(line)
		return nil
	default:
		return errors.New(line)
	}
}

// shutdownPublisher flushes what the publisher still buffers within
// timeout (transport.Pair.Shutdown); it logs and counts what it had to
// drop.
func shutdownPublisher(pair transport.Pair, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = pair.Shutdown(ctx)
}
