package app

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// metricsAPIBinary is the metrics API bridge's own binary (cmd/metrics-api,
// a module of its own: the Kubernetes API server library it is built on
// compiles for minutes, so it is not linked into metricsender).
const metricsAPIBinary = "metricsender-metrics-api"

func metricsAPICommand() *cli.Command {
	return &cli.Command{
		Name:  "metrics-api",
		Usage: "serve the latest values from the bus as the Kubernetes external and custom metrics APIs (runs " + metricsAPIBinary + ", beside this binary or on PATH, with the same arguments; --help lists its flags)",
		// Every argument, --help included, is the bridge's.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			bin, err := findMetricsAPI()
			if err != nil {
				return err
			}
			cmd := exec.CommandContext(c.Context, bin, c.Args().Slice()...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
			// A signal to metricsender is a signal to the bridge: it shuts
			// down cleanly on SIGTERM; a second chance ends in SIGKILL.
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 30 * time.Second
			err = cmd.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.ExitCode() > 0 {
				return &childExit{code: exit.ExitCode()}
			}
			if err != nil {
				return fmt.Errorf("metrics-api: run %s: %w", bin, err)
			}
			return nil
		},
	}
}

// findMetricsAPI is the bridge binary beside the running metricsender,
// else on PATH; a usage error (exit 2) saying how to get it otherwise.
func findMetricsAPI() (string, error) {
	self, err := os.Executable()
	if err == nil {
		beside := filepath.Join(filepath.Dir(self), metricsAPIBinary)
		if info, err := os.Stat(beside); err == nil && !info.IsDir() {
			return beside, nil
		}
	}
	if bin, err := exec.LookPath(metricsAPIBinary); err == nil {
		return bin, nil
	}
	return "", usagef("metrics-api: %s is neither beside this binary nor on PATH; "+
		"build it from a checkout with `go build -C cmd/metrics-api -o $(go env GOPATH)/bin/%s .` "+
		"(a few minutes the first time), run it with `go run -C cmd/metrics-api . --help`, "+
		"or use the image target: docker build --target metrics-api .", metricsAPIBinary, metricsAPIBinary)
}

// childExit is a child process's exit status, passed on as metricsender's
// own: the child has printed its error already.
type childExit struct{ code int }

func (e *childExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }
