package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/watchfile"
)

// waitLimit only bounds a test that would otherwise hang; nothing is timed.
const waitLimit = 20 * time.Second

// configMapDir is a directory laid out as kubelet lays out a ConfigMap
// volume: metricsender.yaml -> ..data/metricsender.yaml, ..data -> ..<timestamp>.
type configMapDir struct {
	t   *testing.T
	dir string
	gen int
	cur string // the current ..<timestamp> directory's name
}

func newConfigMapDir(t *testing.T, content string) *configMapDir {
	t.Helper()
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.cur = c.writeGeneration(content)
	c.must(os.Symlink(c.cur, filepath.Join(c.dir, "..data")))
	c.must(os.Symlink(filepath.Join("..data", "metricsender.yaml"), c.path()))
	return c
}

func (c *configMapDir) path() string { return filepath.Join(c.dir, "metricsender.yaml") }

func (c *configMapDir) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// writeGeneration writes content into a new ..<timestamp> directory.
func (c *configMapDir) writeGeneration(content string) string {
	c.t.Helper()
	c.gen++
	name := fmt.Sprintf("..2026_01_01_00_00_%02d.000000001", c.gen)
	c.must(os.Mkdir(filepath.Join(c.dir, name), 0o755))
	c.must(os.WriteFile(filepath.Join(c.dir, name, "metricsender.yaml"), []byte(content), 0o644))
	return name
}

// update swaps in content the way kubelet's AtomicWriter does: a new
// timestamped directory, a ..data_tmp symlink to it renamed over ..data,
// then the old directory removed.
func (c *configMapDir) update(content string) {
	c.t.Helper()
	next := c.writeGeneration(content)
	c.must(os.Symlink(next, filepath.Join(c.dir, "..data_tmp")))
	c.must(os.Rename(filepath.Join(c.dir, "..data_tmp"), filepath.Join(c.dir, "..data")))
	c.must(os.RemoveAll(filepath.Join(c.dir, c.cur)))
	c.cur = next
}

// startWatcher runs a watchfile.Watcher on path until the test ends and returns
// once it watches and has SIGHUP's handler installed. settled receives
// each burst's outcome.
func startWatcher(t *testing.T, path string, reload func()) (settled <-chan bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	settledc := make(chan bool, 100)
	w := watchfile.Watcher{Path: path, Logger: slog.New(slog.DiscardHandler), Reload: reload,
		Started: func() { close(started) }, Settled: func(changed bool) { settledc <- changed }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done // watchConfig returns when ctx is done (and stops taking SIGHUP)
	})
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("watcher did not start")
	}
	return settledc
}

// TestWatchConfigReturnsOnCancel: the public entry point stops with ctx.
func TestWatchConfigReturnsOnCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	writeFile(t, path, "interval: 10s\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchConfig(ctx, path, nil, func() {})
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("watchConfig did not return after cancel")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
