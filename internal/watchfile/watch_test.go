package watchfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// startWatcher runs a Watcher on path until the test ends and returns
// once it watches and has SIGHUP's handler installed. settled receives
// each burst's outcome.
func startWatcher(t *testing.T, path string, reload func()) (settled <-chan bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	settledc := make(chan bool, 100)
	w := Watcher{Path: path, Logger: slog.New(slog.DiscardHandler), Reload: reload, Debounce: DefaultDebounce,
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

func TestWatchConfig(t *testing.T) {
	const v1, v2 = "interval: 10s\n", "interval: 20s\n"
	tests := []struct {
		name   string
		layout func(t *testing.T) (path string, change func())
		want   string // the file's content when reload runs; "" = no reload
	}{
		{name: "kubelet ..data swap", want: v2, layout: func(t *testing.T) (string, func()) {
			c := newConfigMapDir(t, v1)
			return c.path(), func() { c.update(v2) }
		}},
		{name: "plain file written in place", want: v2, layout: func(t *testing.T) (string, func()) {
			path := filepath.Join(t.TempDir(), "metricsender.yaml")
			writeFile(t, path, v1)
			return path, func() { writeFile(t, path, v2) }
		}},
		{name: "editor saves by renaming over", want: v2, layout: func(t *testing.T) (string, func()) {
			path := filepath.Join(t.TempDir(), "metricsender.yaml")
			writeFile(t, path, v1)
			return path, func() {
				writeFile(t, path+".swp", v2)
				if err := os.Rename(path+".swp", path); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "SIGHUP reloads an unchanged file", want: v1, layout: func(t *testing.T) (string, func()) {
			c := newConfigMapDir(t, v1)
			return c.path(), func() {
				// Safe: startWatcher returned, so the handler is installed.
				if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "another file of the directory", want: "", layout: func(t *testing.T) (string, func()) {
			path := filepath.Join(t.TempDir(), "metricsender.yaml")
			writeFile(t, path, v1)
			return path, func() { writeFile(t, filepath.Join(filepath.Dir(path), "notes.txt"), "x") }
		}},
		{name: "same content rewritten", want: "", layout: func(t *testing.T) (string, func()) {
			c := newConfigMapDir(t, v1)
			return c.path(), func() { c.update(v1) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, change := tt.layout(t)
			reloads := make(chan string, 10)
			settled := startWatcher(t, path, func() {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("reload: read: %v", err)
				}
				reloads <- string(data)
			})
			change()
			if tt.want == "" {
				// The burst is looked at and found unchanged: no reload.
				select {
				case changed := <-settled:
					if changed {
						t.Fatalf("a burst counted as a change")
					}
				case <-time.After(waitLimit):
					t.Fatal("the burst was never looked at")
				}
				if len(reloads) > 0 {
					t.Errorf("reload called with %q, want no call", <-reloads)
				}
				return
			}
			select {
			case got := <-reloads:
				if got != tt.want {
					t.Errorf("reload saw %q, want %q", got, tt.want)
				}
			case <-time.After(waitLimit):
				t.Fatal("reload not called")
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatchConfigNoDirectory: a directory that cannot be watched leaves SIGHUP working.
func TestWatchConfigNoDirectory(t *testing.T) {
	reloads := make(chan struct{}, 1)
	startWatcher(t, filepath.Join(t.TempDir(), "missing", "metricsender.yaml"), func() { reloads <- struct{}{} })
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloads:
	case <-time.After(waitLimit):
		t.Fatal("reload not called on SIGHUP")
	}
}
