// Package watchfiletest holds what the tests of config reloading share: a
// directory laid out as kubelet lays out a mounted ConfigMap, updated as
// kubelet updates it, and a watchfile.Watcher run for the length of a test.
package watchfiletest

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

// WaitLimit only bounds a test that would otherwise hang; nothing is timed.
const WaitLimit = 20 * time.Second

// ConfigMapDir is a directory laid out as kubelet lays out a ConfigMap
// volume: metricsender.yaml -> ..data/metricsender.yaml, ..data -> ..<timestamp>.
type ConfigMapDir struct {
	t   testing.TB
	dir string
	gen int
	cur string // the current ..<timestamp> directory's name
}

// NewConfigMapDir lays out a ConfigMap volume holding content, in a
// directory the test removes at its end.
func NewConfigMapDir(t testing.TB, content string) *ConfigMapDir {
	t.Helper()
	c := &ConfigMapDir{t: t, dir: t.TempDir()}
	c.cur = c.writeGeneration(content)
	c.must(os.Symlink(c.cur, filepath.Join(c.dir, "..data")))
	c.must(os.Symlink(filepath.Join("..data", "metricsender.yaml"), c.Path()))
	return c
}

// Path is the file's path as the pod sees it.
func (c *ConfigMapDir) Path() string { return filepath.Join(c.dir, "metricsender.yaml") }

func (c *ConfigMapDir) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// writeGeneration writes content into a new ..<timestamp> directory.
func (c *ConfigMapDir) writeGeneration(content string) string {
	c.t.Helper()
	c.gen++
	name := fmt.Sprintf("..2026_01_01_00_00_%02d.000000001", c.gen)
	c.must(os.Mkdir(filepath.Join(c.dir, name), 0o755))
	c.must(os.WriteFile(filepath.Join(c.dir, name, "metricsender.yaml"), []byte(content), 0o644))
	return name
}

// Update swaps in content the way kubelet's AtomicWriter does: a new
// timestamped directory, a ..data_tmp symlink to it renamed over ..data,
// then the old directory removed.
func (c *ConfigMapDir) Update(content string) {
	c.t.Helper()
	next := c.writeGeneration(content)
	c.must(os.Symlink(next, filepath.Join(c.dir, "..data_tmp")))
	c.must(os.Rename(filepath.Join(c.dir, "..data_tmp"), filepath.Join(c.dir, "..data")))
	c.must(os.RemoveAll(filepath.Join(c.dir, c.cur)))
	c.cur = next
}

// Start runs a watchfile.Watcher on path until the test ends and returns
// once it watches and has SIGHUP's handler installed. settled receives
// each burst's outcome.
func Start(t testing.TB, path string, reload func()) (settled <-chan bool) {
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
		<-done // Run returns when ctx is done (and stops taking SIGHUP)
	})
	select {
	case <-started:
	case <-time.After(WaitLimit):
		t.Fatal("watcher did not start")
	}
	return settledc
}
