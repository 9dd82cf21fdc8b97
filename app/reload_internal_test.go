package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/watchfile/watchfiletest"
)

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
	case <-time.After(watchfiletest.WaitLimit):
		t.Fatal("watchConfig did not return after cancel")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
