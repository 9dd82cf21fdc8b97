package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/watchfile"
)

// watchConfig calls reload once per change of the config file at path, and
// on every SIGHUP, until ctx is done; then it returns (see watchfile: the
// directory is watched, so a ConfigMap's ..data swap is seen; bursts are
// debounced; an unchanged file is no reload). SIGHUP's handler is
// installed while watchConfig runs: a SIGHUP before it starts or after it
// returns gets the default action (the process ends).
func watchConfig(ctx context.Context, path string, logger *slog.Logger, reload func()) {
	w := watchfile.Watcher{Path: path, Logger: logger, Reload: reload}
	w.Run(ctx)
}

// applier is what a reload changes; *generator.Schedule is one.
type applier interface {
	Apply(cfg *generator.Config) (generator.ApplyResult, error)
}

// reloader loads the config file again and applies it to the running
// schedule, keeping the running config when the new one is invalid.
type reloader struct {
	path    string
	sched   applier
	metrics *sendMetrics // may be nil
	logger  *slog.Logger
	// What the process started with: a reload cannot change these, so any
	// difference is warned about at every reload until a restart.
	conn generator.Connection
	seed *int64
}

// newReloader reloads path into sched; running is the config the process
// started with. metrics may be nil; a nil logger discards.
func newReloader(path string, running *generator.Config, sched applier, metrics *sendMetrics, logger *slog.Logger) *reloader {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &reloader{path: path, sched: sched, metrics: metrics, logger: logger.With("component", "reload")}
	if running != nil {
		r.conn, r.seed = running.Connection, running.Seed
	}
	return r
}

// Reload loads and validates the file and applies it. On failure it logs
// one error line (every problem, "; "-joined), counts a failed reload and
// keeps the running config; on success it logs what was added, removed and
// changed, and counts a successful reload. A changed `connection` or `seed`
// is logged as needing a restart: the broker connection and the streams
// stay as they are. Not safe for concurrent use (watchConfig calls it from
// one goroutine).
func (r *reloader) Reload() {
	cfg, err := generator.Load(r.path)
	if err == nil {
		var res generator.ApplyResult
		res, err = r.sched.Apply(cfg)
		if err == nil {
			r.applied(cfg, res)
			return
		}
	}
	r.logger.Error("config reload failed; the running config stays",
		"file", r.path, "problems", max(len(generator.FieldErrors(err)), 1), "error", generator.OneLine(err))
	if r.metrics != nil {
		r.metrics.Reload(false)
	}
}

func (r *reloader) applied(cfg *generator.Config, res generator.ApplyResult) {
	r.logger.Info("config reloaded", "file", r.path, "deployments", len(cfg.Deployments),
		"added", firstNames(res.Added), "removed", firstNames(res.Removed), "changed", firstNames(res.Changed))
	if !cfg.Connection.Equal(r.conn) {
		r.logger.Warn("the connection section changed: the running connection stays until a restart",
			"file", r.path)
		warnPasswordInFile(r.logger, cfg)
	}
	if !sameSeed(cfg.Seed, r.seed) {
		r.logger.Warn("the seed changed: the running streams keep theirs until a restart", "file", r.path)
	}
	if r.metrics != nil {
		r.metrics.Applied(cfg, res)
		r.metrics.Reload(true)
	}
}

// firstNames keeps a log line short when a reload touches thousands of
// deployments (a `count` change): the first ten names, then how many more.
func firstNames(names []string) []string {
	const show = 10
	if len(names) <= show {
		return names
	}
	return append(slices.Clip(names[:show]), fmt.Sprintf("(+%d more)", len(names)-show))
}

func sameSeed(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
