package watchfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/watchfile/watchfiletest"
)

func TestWatchConfig(t *testing.T) {
	const v1, v2 = "interval: 10s\n", "interval: 20s\n"
	tests := []struct {
		name   string
		layout func(t *testing.T) (path string, change func())
		want   string // the file's content when reload runs; "" = no reload
	}{
		{name: "kubelet ..data swap", want: v2, layout: func(t *testing.T) (string, func()) {
			c := watchfiletest.NewConfigMapDir(t, v1)
			return c.Path(), func() { c.Update(v2) }
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
			c := watchfiletest.NewConfigMapDir(t, v1)
			return c.Path(), func() {
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
			c := watchfiletest.NewConfigMapDir(t, v1)
			return c.Path(), func() { c.Update(v1) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, change := tt.layout(t)
			reloads := make(chan string, 10)
			settled := watchfiletest.Start(t, path, func() {
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
				case <-time.After(watchfiletest.WaitLimit):
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
			case <-time.After(watchfiletest.WaitLimit):
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
	watchfiletest.Start(t, filepath.Join(t.TempDir(), "missing", "metricsender.yaml"), func() { reloads <- struct{}{} })
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloads:
	case <-time.After(watchfiletest.WaitLimit):
		t.Fatal("reload not called on SIGHUP")
	}
}
