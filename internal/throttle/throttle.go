// Package throttle keeps a warning that can repeat per message or per
// deployment from flooding the log. The first occurrence is logged in
// full; the ones after it are counted, and while they go on at most one
// summary line per period says how many there were, over how many keys
// (deployments, routing keys), with one example. A counter on /metrics
// carries the exact total; the log only has to stay readable at 100,000
// deployments.
package throttle

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// maxKeys bounds the distinct keys remembered for one summary, so a
// flood of made-up names cannot grow memory; past it the summary says
// "at least".
const maxKeys = 1 << 17

// Config describes one throttled warning.
type Config struct {
	// Message is the log message of the first line and of the summaries.
	Message string
	// CountKey and KeysKey name the summary's attributes for the number
	// of occurrences and of distinct keys ("unroutable", "deployments").
	// Defaults: "count", "keys".
	CountKey, KeysKey string
	// Every is the shortest time between two lines. Default: one minute.
	Every time.Duration
	// Now is the clock; tests set it. Default: time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.CountKey == "" {
		c.CountKey = "count"
	}
	if c.KeysKey == "" {
		c.KeysKey = "keys"
	}
	if c.Every == 0 {
		c.Every = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a config New cannot use.
func (c Config) Validate() error {
	var errs []error
	if c.Message == "" {
		errs = append(errs, errors.New("throttle: empty Message"))
	}
	if c.Every < 0 {
		errs = append(errs, errors.New("throttle: negative Every"))
	}
	return errors.Join(errs...)
}

// Warning is one throttled warning. Its methods are safe for concurrent
// use; a nil *Warning ignores every call.
type Warning struct {
	cfg    Config
	logger *slog.Logger

	mu       sync.Mutex
	lastLine time.Time // when a line (first or summary) was last written
	pending  int       // occurrences since that line
	keys     map[string]struct{}
	example  string
}

// New returns a Warning that logs to logger (nil discards). It panics on
// a config that fails Validate: configs are literals in the code, so that
// is a programming error.
func New(logger *slog.Logger, cfg Config) *Warning {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Warning{cfg: cfg, logger: logger, keys: make(map[string]struct{})}
}

// Warn records one occurrence under key. It is logged in full, with
// attrs, when it is the first one, or the first after a quiet period
// (nothing pending and the last line at least Every ago). Otherwise it is
// counted, and a summary line is written once Every has passed since the
// last line. It reports whether this occurrence was logged in full, so a
// caller can log the rest at debug level.
func (w *Warning) Warn(key string, attrs ...any) (logged bool) {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.cfg.Now()
	quiet := w.lastLine.IsZero() || (w.pending == 0 && now.Sub(w.lastLine) >= w.cfg.Every)
	if quiet {
		w.lastLine = now
		w.logger.Log(context.Background(), slog.LevelWarn, w.cfg.Message, attrs...)
		return true
	}
	w.pending++
	if len(w.keys) < maxKeys {
		w.keys[key] = struct{}{}
	}
	if w.example == "" {
		w.example = key
	}
	if now.Sub(w.lastLine) >= w.cfg.Every {
		w.summarize(now)
	}
	return false
}

// Flush writes the summary of what was counted since the last line, if
// anything was: call it at shutdown so the tail is not lost from the log.
func (w *Warning) Flush() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending > 0 {
		w.summarize(w.cfg.Now())
	}
}

// summarize writes the summary line and starts a new period. w.mu is held.
func (w *Warning) summarize(now time.Time) {
	keys := any(len(w.keys))
	if len(w.keys) >= maxKeys {
		keys = "at least " + strconv.Itoa(maxKeys)
	}
	w.logger.Log(context.Background(), slog.LevelWarn, w.cfg.Message+" (summary)",
		w.cfg.CountKey, w.pending, w.cfg.KeysKey, keys, "example", w.example,
		"over", now.Sub(w.lastLine).Round(time.Second).String())
	w.lastLine, w.pending, w.example = now, 0, ""
	clear(w.keys)
}
