//go:build kubeapiserver

package realhpa_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labsea/metricsender/internal/proctest"
)

// The binaries under test, built once by TestMain when the tests are on.
var (
	sender string // metricsender
	bridge string // metricsender-metrics-api
)

func TestMain(m *testing.M) {
	if os.Getenv("METRICSENDER_KUBE_TESTS") != "1" {
		os.Exit(m.Run()) // every test skips, saying how to run it
	}
	bin, removeSender, err := proctest.BuildLikeTest("realhpa")
	if err != nil {
		fmt.Fprintln(os.Stderr, "realhpa:", err)
		os.Exit(1)
	}
	sender = bin
	bridge, err = buildBridge(filepath.Dir(bin))
	if err != nil {
		removeSender()
		fmt.Fprintln(os.Stderr, "realhpa:", err)
		os.Exit(1)
	}
	code := m.Run()
	removeSender() // the bridge is in the same directory
	os.Exit(code)
}

// buildBridge builds this module's program into dir, without -race: the
// API server library is heavy to compile twice, and the bridge's own
// tests run it with -race.
func buildBridge(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the metrics-api module: %w", err)
	}
	out := filepath.Join(dir, "metricsender-metrics-api")
	build := exec.Command("go", "build", "-o", out, ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build metricsender-metrics-api: %w", err)
	}
	return out, nil
}
