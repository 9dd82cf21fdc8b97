package watchfile

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the directory must stay quiet before a burst
// of events counts as one change: a kubelet swap or an editor's save is
// several events.
const DefaultDebounce = 100 * time.Millisecond

// Watcher calls Reload once per change of the file at Path, and on every
// SIGHUP, while Run runs. The hooks let tests wait for it instead of
// sleeping.
type Watcher struct {
	Path     string
	Logger   *slog.Logger // nil discards
	Reload   func()
	Debounce time.Duration      // 0: DefaultDebounce
	Started  func()             // when watching and SIGHUP are set up; may be nil
	Settled  func(changed bool) // after each burst was looked at; may be nil
}

// Run watches until ctx is done; then it returns. SIGHUP's handler is
// installed while Run runs: a SIGHUP before it starts or after it returns
// gets the default action (the process ends).
func (w *Watcher) Run(ctx context.Context) {
	logger := w.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "reload", "file", w.Path)
	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	dir := filepath.Dir(w.Path)
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

	last := Digest(w.Path)
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	if w.Started != nil {
		w.Started()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			logger.Info("SIGHUP: reloading the config")
			last = Digest(w.Path)
			w.Reload()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Op == fsnotify.Chmod {
				continue // atime/permission noise; a content change comes with Write or Create
			}
			logger.Debug("config directory event", "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			logger.Warn("config directory watch", "error", err)
		case <-timer.C:
			now := Digest(w.Path)
			changed := now != last
			if changed {
				last = now
				logger.Info("the config file changed: reloading")
				w.Reload()
			}
			if w.Settled != nil {
				w.Settled(changed)
			}
		}
	}
}

// Digest identifies path's content: its SHA-256, or the read error's
// text (so a file that disappears, then comes back, counts as changes).
// It streams the file through the hash: a 150,000-deployment config is
// 14 MB, read at every change in the config's directory.
func Digest(path string) string {
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
