package wmlog

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// Quiet is logger as a watermill.LoggerAdapter with watermill's Info
// moved to debug.
func Quiet(logger *slog.Logger) watermill.LoggerAdapter {
	return gatedLogger{
		LoggerAdapter: watermill.NewSlogLoggerWithLevelMapping(logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		logger:        logger,
	}
}

// gatedLogger drops watermill's Info, Debug and Trace calls before their
// fields are converted when the level is off: the router logs at Trace
// twice per message, and the adapter builds the attributes before slog
// looks at the level.
type gatedLogger struct {
	watermill.LoggerAdapter
	logger *slog.Logger
}

func (g gatedLogger) Info(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), slog.LevelDebug) { // Info is mapped to Debug
		g.LoggerAdapter.Info(msg, fields)
	}
}

func (g gatedLogger) Debug(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), slog.LevelDebug) {
		g.LoggerAdapter.Debug(msg, fields)
	}
}

func (g gatedLogger) Trace(msg string, fields watermill.LogFields) {
	if g.logger.Enabled(context.Background(), watermill.LevelTrace) {
		g.LoggerAdapter.Trace(msg, fields)
	}
}

func (g gatedLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return gatedLogger{LoggerAdapter: g.LoggerAdapter.With(fields), logger: g.logger}
}
