package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMetricsAPI(t *testing.T) {
	// A stand-in bridge on PATH: it prints its arguments and exits with
	// the status its first argument names.
	withBridge := t.TempDir()
	script := "#!/bin/sh\necho \"bridge got: $*\"\necho \"bridge error\" >&2\nexit $1\n"
	if err := os.WriteFile(filepath.Join(withBridge, "metricsender-metrics-api"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		path           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"absent: exit 2 saying how to build and run it", t.TempDir(), []string{"--help"}, 2, "",
			"metricsender-metrics-api is neither beside this binary nor on PATH; build it from a checkout with `go build -C cmd/metrics-api"},
		{"its arguments, --help included, and its output", withBridge, []string{"0", "--listen", ":1", "--help"}, 0, "bridge got: 0 --listen :1 --help", "bridge error"},
		{"its exit status, without a line of ours", withBridge, []string{"2", "--max-age", "-1s"}, 2, "bridge got: 2 --max-age -1s", "bridge error\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			code, stdout, stderr := runCLI(t, ctx, append([]string{"metrics-api"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.code == 2 && tt.path == withBridge && strings.Contains(stderr, "metricsender:") {
				t.Errorf("metricsender added a line to the bridge's error: %q", stderr)
			}
		})
	}
}
