package app

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/labsea/metricsender/generator"
)

// reloadDebounce is how long the config directory must stay quiet before a
// burst of events counts as one change: a kubelet swap or an editor's save
// is several events.
const reloadDebounce = 100 * time.Millisecond

// watchConfig calls reload once per change of the config file at path, and
// on every SIGHUP, until ctx is done; then it returns.
//
// It watches path's directory, not the file: a ConfigMap volume updates by
// swapping its `..data` symlink (path is a symlink to ..data/<file>, which
// itself never changes), so a watch on the file would miss the update. A
// burst of events is debounced (~100ms of quiet) into one look at the file,
// and reload is called only when the file's content differs from the last
// look (events about other files of the directory cost a read, not a
// reload). SIGHUP always reloads. If the directory cannot be watched, the
// failure is logged and only SIGHUP works. reload runs on watchConfig's
// goroutine, one call at a time.
//
// SIGHUP's handler is installed while watchConfig runs: a SIGHUP before it
// starts or after it returns gets the default action (the process ends).
func watchConfig(ctx context.Context, path string, logger *slog.Logger, reload func()) {
	w := configWatcher{path: path, logger: logger, reload: reload, debounce: reloadDebounce}
	w.run(ctx)
}

// configWatcher is watchConfig's state; the hooks let tests wait for it
// instead of sleeping.
type configWatcher struct {
	path     string
	logger   *slog.Logger
	reload   func()
	debounce time.Duration
	started  func()             // when watching and SIGHUP are set up; may be nil
	settled  func(changed bool) // after each burst was looked at; may be nil
}

func (w *configWatcher) run(ctx context.Context) {
	logger := w.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "reload", "file", w.path)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	dir := filepath.Dir(w.path)
	fw, err := fsnotify.NewWatcher()
	if err == nil {
		err = fw.Add(dir)
		if err != nil {
			_ = fw.Close()
		}
	}
	if err != nil {
		logger.Error("cannot watch the config directory; reload with SIGHUP", "dir", dir, "error", err)
	} else {
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
		logger.Debug("watching the config directory", "dir", dir)
	}

	last := fileDigest(w.path)
	timer := time.NewTimer(w.debounce)
	timer.Stop()
	defer timer.Stop()
	if w.started != nil {
		w.started()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			logger.Info("SIGHUP: reloading the config")
			last = fileDigest(w.path)
			w.reload()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue // atime/permission noise; a content change comes with Write or Create
			}
			logger.Debug("config directory event", "event", ev.String())
			timer.Reset(w.debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			logger.Warn("config directory watch", "error", err)
		case <-timer.C:
			now := fileDigest(w.path)
			changed := now != last
			if changed {
				last = now
				logger.Info("the config file changed: reloading")
				w.reload()
			}
			if w.settled != nil {
				w.settled(changed)
			}
		}
	}
}

// fileDigest identifies path's content: its SHA-256, or the read error's
// text (so a file that disappears, then comes back, counts as changes).
// It streams the file through the hash: a 150,000-deployment config is
// 14 MB, read at every change in the config's directory.
func fileDigest(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "error: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "error: " + err.Error()
	}
	return string(h.Sum(nil))
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
		"file", r.path, "problems", max(len(generator.FieldErrors(err)), 1), "error", oneLineError(err))
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

// oneLineError is err's text on one line: joined errors print one per line.
func oneLineError(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
