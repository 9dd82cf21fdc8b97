package kube

import (
	"context"
	"log/slog"
	"time"

	"github.com/labsea/metricsender/generator"
)

// Start runs a source of cfg into rec until ctx ends and waits for its
// first sync, bounded by timeout when > 0: so a schedule started after it
// reflects the cluster from its first tick. A sync that does not come in
// time is a warning (the state holds and Ready says why), not an error.
// The returned wait blocks until the source has stopped.
func Start(ctx context.Context, cfg Config, rec generator.Recorder, timeout time.Duration, logger *slog.Logger) (src *Source, wait func(), err error) {
	src, err = New(cfg, rec, logger)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx)
	}()
	wait = func() { <-done }
	syncCtx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		syncCtx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	logger.Info("feedback kubernetes: waiting for the first list", "namespace", src.Namespace())
	if err := src.WaitSynced(syncCtx); err != nil && ctx.Err() == nil {
		logger.Warn("feedback kubernetes: no first list in --connect-timeout; starting from the file's state", "error", err)
	}
	return src, wait, nil
}
