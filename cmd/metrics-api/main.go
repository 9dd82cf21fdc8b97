// Command metricsender-metrics-api is the metrics API bridge: it reads
// Metrics.* from the bus and serves the latest value of every app's
// metrics as the Kubernetes external metrics API and, for Object metrics
// on deployments/<name>, the custom metrics API, so a real
// HorizontalPodAutoscaler (or anything that reads those APIs) can be fed
// by metricsender. Package latest holds what it serves and when a value
// is missing; this command wires it to a transport and to
// sigs.k8s.io/custom-metrics-apiserver, which brings TLS, delegated
// authentication and authorization, discovery and OpenAPI.
//
// It is a module of its own (cmd/metrics-api) so that the API server
// library, several minutes of compiling, stays out of metricsender's
// build; `metricsender metrics-api` runs this binary.
//
// Exit status: 0 after SIGINT or SIGTERM, 1 on a runtime failure (the
// broker, the cluster for delegation, the listen address), 2 on bad
// flags or a bad --config.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// The API server library logs through klog: into the same log, once.
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, func(l *slog.Logger) { klog.SetSlogLogger(l) })
	stop()
	os.Exit(code)
}

// run runs the bridge with args until ctx ends and returns the exit
// status. routeLibraryLogs, when not nil, is given the logger for the
// library's own logs (main sends klog there).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, routeLibraryLogs func(*slog.Logger)) int {
	o, err := parseFlags(args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	var logger *slog.Logger
	if err == nil {
		logger, err = newLogger(o, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see --help)\n", program, err)
		return exitUsage
	}
	if routeLibraryLogs != nil {
		routeLibraryLogs(logger.With("component", "apiserver"))
	}
	if err := serve(ctx, o, logger); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

// newLogger builds the process logger from --log-level and --log-format.
func newLogger(o *options, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return nil, usagef("--log-level %q: must be debug, info, warn or error", o.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch o.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usagef("--log-format %q: must be text or json", o.logFormat)
	}
}
